#!/bin/sh
# Starts an app process of docker-compose.yml (`sh with-secrets.sh node dist/main.js`): each of
# JWT_SECRET, PAYMENT_WEBHOOK_SECRET and ADMIN_PASSWORD not given from the shell (compose passes
# them empty) is taken from the file the `app-secrets` one-shot generated. Nothing else is read
# from it. Without the file and without the variables the app refuses to start, naming them.
set -eu
FILE=/run/nest-commerce/app.env
if [ -r "$FILE" ]; then
  while IFS='=' read -r key value; do
    case "$key" in
      JWT_SECRET | PAYMENT_WEBHOOK_SECRET | ADMIN_PASSWORD) ;;
      *) continue ;;
    esac
    eval "given=\${$key:-}"
    # shellcheck disable=SC2154 # set by the eval above
    [ -n "$given" ] || export "$key=$value"
  done < "$FILE"
fi
exec "$@"
