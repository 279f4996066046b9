"""Code shared by every Conduit service; installed as a package, never copied."""
