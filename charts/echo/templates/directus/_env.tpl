{{/* Directus env: its own list, secrets from the backend Secret. No TLS-verification bypass. */}}
{{- define "echo.directusEnv" -}}
{{- $s := .Values.backendSecret.name -}}
{{- $d := .Values.directus -}}
{{- range $k := list "PUBLIC_URL" "CORS_ORIGIN" "SESSION_COOKIE_NAME" "SESSION_COOKIE_DOMAIN" "AUTH_GOOGLE_REDIRECT_ALLOW_LIST" }}
{{- if not (index $d.env $k) }}
{{- fail (printf "directus.env.%s must be set (per environment, in values-<env>.yaml)" $k) }}
{{- end }}
{{- end }}
{{- $lit := dict
  "PORT" (toString $d.port)
  "ADMIN_EMAIL" $d.adminEmail
  "WEBSOCKETS_ENABLED" "true"
  "TELEMETRY" "false"
  "DB_CLIENT" "pg"
  "DB_SSL_REJECT_UNAUTHORIZED" (toString $d.dbSslRejectUnauthorized)
  "REDIS_ENABLED" "true"
  "CORS_ENABLED" "true"
  "CORS_CREDENTIALS" "true"
  "CORS_METHODS" "GET,POST,PUT,PATCH,DELETE,OPTIONS,SEARCH"
  "CORS_ALLOWED_HEADERS" "Content-Type,Authorization"
  "CORS_EXPOSED_HEADERS" "Content-Type,Content-Range,X-Total-Count"
  "CORS_MAX_AGE" "18000"
  "SESSION_COOKIE_SAME_SITE" "lax"
  "SESSION_COOKIE_SECURE" "true"
  "EMAIL_TRANSPORT" "smtp"
  "EMAIL_SMTP_SECURE" (toString $d.smtpSecure)
  "EMAIL_SMTP_IGNORE_TLS" "false"
  "AUTH_PROVIDERS" "google"
  "AUTH_GOOGLE_DRIVER" "openid"
  "AUTH_GOOGLE_ISSUER_URL" "https://accounts.google.com"
  "AUTH_GOOGLE_IDENTIFIER_KEY" "email"
  "AUTH_GOOGLE_FIRST_NAME_KEY" "given_name"
  "AUTH_GOOGLE_LAST_NAME_KEY" "family_name"
  "AUTH_GOOGLE_ICON" "google"
  "AUTH_GOOGLE_LABEL" "Google"
  "STORAGE_LOCATIONS" "s3"
  "STORAGE_S3_DRIVER" "s3"
  "STORAGE_S3_BUCKET" (required "common.env.STORAGE_S3_BUCKET must be set (values-<env>.yaml)" .Values.common.env.STORAGE_S3_BUCKET)
  "STORAGE_S3_REGION" .Values.common.env.STORAGE_S3_REGION
  "STORAGE_S3_ENDPOINT" .Values.common.env.STORAGE_S3_ENDPOINT
  "ADMIN_BASE_URL" .Values.common.env.ADMIN_BASE_URL
  "PARTICIPANT_BASE_URL" .Values.common.env.PARTICIPANT_BASE_URL
  "FLOWS_ENV_ALLOW_LIST" "ADMIN_BASE_URL,PARTICIPANT_BASE_URL"
  "DB_EXCLUDE_TABLES" "lightrag_chunk_graph_map,lightrag_doc_chunks,lightrag_doc_full,lightrag_doc_status,lightrag_llm_cache,lightrag_vdb_entity,lightrag_vdb_relation,lightrag_vdb_transcript"
-}}
{{- range $k, $v := $d.env }}
{{- $_ := set $lit $k (toString $v) }}
{{- end }}
{{- range $k, $v := $d.extraEnv }}
{{- $_ := set $lit $k (toString $v) }}
{{- end }}
{{- include "echo.literalEnv" $lit }}
{{- range $pair := list (list "SECRET" "DIRECTUS_SECRET") (list "ADMIN_PASSWORD" "DIRECTUS_ADMIN_PASSWORD") (list "ADMIN_TOKEN" "DIRECTUS_ADMIN_TOKEN") (list "DB_CONNECTION_STRING" "DATABASE_URL") (list "REDIS" "REDIS_URL") (list "EMAIL_FROM" "DIRECTUS_EMAIL_FROM") (list "EMAIL_SMTP_HOST" "DIRECTUS_EMAIL_SMTP_HOST") (list "EMAIL_SMTP_PORT" "DIRECTUS_EMAIL_SMTP_PORT") (list "EMAIL_SMTP_USER" "DIRECTUS_EMAIL_SMTP_USER") (list "EMAIL_SMTP_PASSWORD" "DIRECTUS_EMAIL_SMTP_PASSWORD") (list "AUTH_GOOGLE_CLIENT_ID" "AUTH_GOOGLE_CLIENT_ID") (list "AUTH_GOOGLE_CLIENT_SECRET" "AUTH_GOOGLE_CLIENT_SECRET") (list "STORAGE_S3_KEY" "S3_ACCESS_KEY") (list "STORAGE_S3_SECRET" "S3_SECRET_KEY") }}
{{ include "echo.secretRef" (dict "env" (index $pair 0) "key" (index $pair 1) "secret" $s) }}
{{- end }}
{{- end -}}
