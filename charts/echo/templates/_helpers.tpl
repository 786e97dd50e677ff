{{/* Name prefix of every object: `echo` unless fullnameOverride is set. */}}
{{- define "echo.fullname" -}}
{{- default "echo" .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "echo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Image tag of one image (server|directus|agent): its own tag, else the shared default. */}}
{{- define "echo.imageTag" -}}
{{- $img := index .root.Values.images .image -}}
{{- $tag := default (toString (default "" .root.Values.global.imageTag)) (toString (default "" $img.tag)) -}}
{{- if not $tag -}}
{{- fail (printf "images.%s.tag (or the shared global.imageTag) must be set: pass it with --set images.%s.tag=<tag> or in values-<env>.yaml" .image .image) -}}
{{- end -}}
{{- $tag -}}
{{- end -}}

{{- define "echo.image" -}}
{{- $img := index .root.Values.images .image -}}
{{- printf "%s/%s:%s" .root.Values.global.registry $img.repository (include "echo.imageTag" .) -}}
{{- end -}}

{{/* Labels. Call with (dict "root" $ "component" "api" "image" "server"). */}}
{{- define "echo.selectorLabels" -}}
app.kubernetes.io/name: echo
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "echo.labels" -}}
{{ include "echo.selectorLabels" . }}
app: echo
{{- if .component }}
component: {{ .component }}
{{- end }}
helm.sh/chart: {{ include "echo.chart" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: echo-platform
{{- if .image }}
app.kubernetes.io/version: {{ include "echo.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
{{- else }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}
{{- with .root.Values.global.environment }}
echo.dembrane.com/environment: {{ . }}
{{- end }}
{{- end -}}

{{/* Literal env shared by api, worker, worker-cpu and worker-scheduler. */}}
{{- define "echo.commonEnv" -}}
{{- $env := .Values.common.env -}}
{{- range $k := list "DIRECTUS_BASE_URL" "ADMIN_BASE_URL" "PARTICIPANT_BASE_URL" "API_BASE_URL" "STORAGE_S3_BUCKET" -}}
{{- if not (index $env $k) -}}
{{- fail (printf "common.env.%s must be set (per environment, in values-<env>.yaml)" $k) -}}
{{- end -}}
{{- end -}}
{{- if and $env.ASSEMBLYAI_WEBHOOK_URL (not .Values.backendSecret.optional.ASSEMBLYAI_WEBHOOK_SECRET) -}}
{{- fail "common.env.ASSEMBLYAI_WEBHOOK_URL is set but backendSecret.optional.ASSEMBLYAI_WEBHOOK_SECRET is false: the server refuses to boot with a webhook URL and no webhook secret. Unset the URL or enable the secret key." -}}
{{- end -}}
{{- $agentUrl := $env.AGENT_SERVICE_URL -}}
{{- if and (not $agentUrl) .Values.agent.enabled -}}
{{- $agentUrl = printf "http://%s-agent:%d" (include "echo.fullname" .) (int .Values.agent.port) -}}
{{- end -}}
{{- range $k := keys $env | sortAlpha }}
{{- $v := index $env $k }}
{{- if and (ne $k "AGENT_SERVICE_URL") (ne (toString $v) "") }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}
{{- with $agentUrl }}
- name: AGENT_SERVICE_URL
  value: {{ . | quote }}
{{- end }}
- name: DIRECTUS_SESSION_COOKIE_NAME
  value: {{ required "directus.env.SESSION_COOKIE_NAME must be set (values-<env>.yaml)" .Values.directus.env.SESSION_COOKIE_NAME | quote }}
- name: BUILD_VERSION
  value: {{ include "echo.imageTag" (dict "root" . "image" "server") | quote }}
{{- end -}}

{{- define "echo.secretRef" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- if .optional }}
      optional: true
{{- end }}
{{- end -}}

{{/* Secret env of the server components: required keys always, optional keys per switch. */}}
{{- define "echo.secretEnv" -}}
{{- $s := .Values.backendSecret.name -}}
{{- $required := list (list "DIRECTUS_TOKEN" "DIRECTUS_ADMIN_TOKEN") (list "DIRECTUS_SECRET" "DIRECTUS_SECRET") (list "ASSEMBLYAI_API_KEY" "ASSEMBLYAI_API_KEY") (list "REDIS_URL" "REDIS_URL") (list "DATABASE_URL" "DATABASE_URL") (list "STORAGE_S3_KEY" "S3_ACCESS_KEY") (list "STORAGE_S3_SECRET" "S3_SECRET_KEY") (list "GCP_SA_JSON" "GCP_SA_JSON") -}}
{{- range $g := list "MULTI_MODAL_PRO" "MULTI_MODAL_PRO_2" "MULTI_MODAL_PRO_3" "MULTI_MODAL_FAST" "MULTI_MODAL_FAST_2" "MULTI_MODAL_FAST_3" "TEXT_FAST" "TEXT_FAST_2" "TEXT_FAST_3" -}}
{{- $required = append $required (list (printf "LLM__%s__GCP_SA_JSON" $g) "GCP_SA_JSON") -}}
{{- end -}}
{{- range $pair := $required }}
{{ include "echo.secretRef" (dict "env" (index $pair 0) "key" (index $pair 1) "secret" $s) }}
{{- end }}
{{- range $k := keys .Values.backendSecret.optional | sortAlpha }}
{{- if index $.Values.backendSecret.optional $k }}
{{ include "echo.secretRef" (dict "env" $k "key" $k "secret" $s "optional" true) }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "echo.literalEnv" -}}
{{- range $k := keys . | sortAlpha }}
- name: {{ $k }}
  value: {{ index $ $k | toString | quote }}
{{- end }}
{{- end -}}

{{/* A probe block: exec probes without a command get the Dramatiq default. */}}
{{- define "echo.probe" -}}
{{- $p := deepCopy .probe -}}
{{- if not (or $p.httpGet $p.tcpSocket $p.exec $p.grpc) -}}
{{- $_ := set $p "exec" (dict "command" .root.Values.dramatiqProbeCommand) -}}
{{- end -}}
{{ toYaml $p }}
{{- end -}}
