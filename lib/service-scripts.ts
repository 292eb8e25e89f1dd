/**
 * The scripts a Postgres instance runs to keep a binding's users as the platform says: the same
 * SQL for the in-cluster server (run over its local socket after each start) and for a managed
 * instance (run by the platform's user Job with the admin login). Plain text, so a test can run it
 * against a real `postgres`.
 *
 * psql variables: `db` (the database), `owner` (a NOLOGIN role that owns the database and what the
 * app creates), `user_a`/`pass_a` and `user_b`/`pass_b` (the two login users that take turns on
 * rotation; an empty password disables that user). Identifiers go through `format('%I')` and
 * passwords through `%L`, so no value can break out of its quotes. A managed instance's admin is
 * no superuser (RDS's rds_superuser, Cloud SQL's cloudsqlsuperuser): it joins the owner role
 * first, as PostgreSQL requires to create a database owned by it and to hand it the schema.
 */
export const ENSURE_USERS_SQL = `\\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I NOLOGIN', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \\gexec
SELECT format('GRANT %I TO %I', :'owner', current_user) WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \\gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', :'db', :'owner') \\gexec
SELECT format('CREATE ROLE %I NOLOGIN', u) FROM unnest(ARRAY[:'user_a', :'user_b']) AS u WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = u) \\gexec
SELECT format('GRANT %I TO %I', :'owner', u) FROM unnest(ARRAY[:'user_a', :'user_b']) AS u \\gexec
SELECT format('ALTER ROLE %I SET role = %L', u, :'owner') FROM unnest(ARRAY[:'user_a', :'user_b']) AS u \\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', u, p) FROM (VALUES (:'user_a', :'pass_a'), (:'user_b', :'pass_b')) AS t(u, p) WHERE p <> '' \\gexec
SELECT format('ALTER ROLE %I NOLOGIN PASSWORD NULL', u) FROM (VALUES (:'user_a', :'pass_a'), (:'user_b', :'pass_b')) AS t(u, p) WHERE p = '' \\gexec
\\c :"db"
SELECT format('ALTER SCHEMA public OWNER TO %I', :'owner') \\gexec
`;

/**
 * Runs {@link ENSURE_USERS_SQL} once the server accepts connections. The connection comes from the
 * libpq environment (PGHOST, PGUSER, ...); the users and passwords from the Secret's variables.
 */
export const ENSURE_USERS_SH = `#!/bin/sh
set -eu
tries=0
until pg_isready -q; do
  tries=$((tries + 1))
  if [ "$tries" -gt 120 ]; then echo "ensure-users: server not ready after 120 s" >&2; exit 1; fi
  sleep 1
done
exec psql -X -q -d postgres -v db="$SERVICE_DATABASE" -v owner="$SERVICE_OWNER" \\
  -v user_a="$SERVICE_USER_A" -v pass_a="$SERVICE_PASSWORD_A" \\
  -v user_b="$SERVICE_USER_B" -v pass_b="$SERVICE_PASSWORD_B" \\
  -f "$(dirname "$0")/ensure-users.sql"
`;

/**
 * Client authentication of the in-cluster server: the superuser only over the local socket as the
 * same OS user (peer; nobody can exec into the pod), everyone else over TCP with SCRAM.
 */
export const PG_HBA_CONF = `local all postgres peer
host all postgres 0.0.0.0/0 reject
host all postgres ::/0 reject
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0 scram-sha-256
`;
