# The API docs page for Kubernetes: Swagger UI (npm swagger-ui-dist, pinned in
# package.json; `npm ci` puts it in node_modules first) reading docs/openapi.yml,
# served at /flask/api/docs/ by an unprivileged nginx on port 8080. The same files the
# dev gateway serves (gateway/docs/index.html rewrites the document's server URL to the
# relative /flask/api, so "Try it out" calls the page's own origin).
#   npm ci && docker build -f docker/docs.Dockerfile -t docs .
# Runs as uid 101 (the image's nginx user) or any other non-root uid, with a read-only
# root filesystem and a writable /tmp (an emptyDir in k8s/base/docs.yaml).
FROM nginx:1.27

COPY docker/docs.nginx.conf /etc/nginx/nginx.conf
COPY gateway/docs/index.html docs/openapi.yml \
     node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     node_modules/swagger-ui-dist/swagger-ui.css \
     /usr/share/nginx/conduit-docs/

USER 101:101
EXPOSE 8080
# Not the base image's entrypoint: its scripts rewrite files under /etc/nginx, which a
# read-only root filesystem refuses. -e stderr: the error log before the config is read.
ENTRYPOINT ["nginx", "-e", "stderr"]
CMD []
