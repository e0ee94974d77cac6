#!/bin/sh
# docker-compose.yml's `app-secrets` one-shot: on the first start of the stack, generates the
# app's secrets (JWT_SECRET, PAYMENT_WEBHOOK_SECRET, ADMIN_PASSWORD) into the `app-secrets`
# volume, readable by the app's user (uid 1000) only; on later starts keeps them. Nothing is
# printed but where they are: the app services read them there (deploy/compose/with-secrets.sh)
# unless the same variables are given from the shell or an .env file next to docker-compose.yml.
set -eu
umask 077
FILE=/run/nest-commerce/app.env
if [ -s "$FILE" ]; then
  echo "nest-commerce: using the secrets generated on the first start ($FILE in the app-secrets volume)"
  exit 0
fi
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
{
  echo "JWT_SECRET=$(hex 48)"
  echo "PAYMENT_WEBHOOK_SECRET=$(hex 32)"
  echo "ADMIN_PASSWORD=$(hex 16)"
} > "$FILE.tmp"
chown 1000:1000 "$FILE.tmp"
chmod 0400 "$FILE.tmp"
mv "$FILE.tmp" "$FILE"
echo "nest-commerce: generated JWT_SECRET, PAYMENT_WEBHOOK_SECRET and ADMIN_PASSWORD into $FILE"
echo "  (docker volume <project>_app-secrets; the admin account is ADMIN_EMAIL with that ADMIN_PASSWORD)."
echo "  Read them:   docker compose run --rm --no-deps app-secrets cat $FILE"
echo "  Rotate them: docker compose down && docker volume rm <project>_app-secrets && docker compose up -d"
