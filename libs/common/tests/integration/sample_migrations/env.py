import sqlalchemy
from alembic import context

from conduit_common import migrations

migrations.run(context, sqlalchemy.MetaData(schema="auth"), schema="auth")
