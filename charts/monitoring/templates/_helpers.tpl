{{- define "monitoring.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "monitoring.environment" -}}
{{- required "global.environment must be set (dev, testing, prod or local: load values-<env>.yaml)" .Values.global.environment -}}
{{- end -}}

{{- define "monitoring.appNamespace" -}}
{{- default (printf "echo-%s" (include "monitoring.environment" .)) .Values.global.appNamespace -}}
{{- end -}}

{{/* Selector labels. Call with (dict "root" $ "component" "prometheus"). */}}
{{- define "monitoring.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "monitoring.labels" -}}
{{ include "monitoring.selectorLabels" . }}
app: {{ .component }}
component: {{ .component }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: echo-platform
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.Version | quote }}
helm.sh/chart: {{ include "monitoring.chart" .root }}
{{- end -}}

{{- define "monitoring.metadata" -}}
name: {{ .name | default .component }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "monitoring.labels" . | nindent 2 }}
{{- end -}}

{{- define "monitoring.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "monitoring.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "monitoring.pvc" -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  {{- include "monitoring.metadata" (dict "root" .root "component" .component "name" (printf "%s-data" .component)) | nindent 2 }}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: {{ .root.Values.global.storageClassName }}
  resources:
    requests:
      storage: {{ .size }}
{{- end -}}

{{- define "monitoring.serviceAccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  {{- include "monitoring.metadata" . | nindent 2 }}
automountServiceAccountToken: {{ .automount | default false }}
{{- end -}}

{{/* ClusterRole + binding for a service account of the same name. */}}
{{- define "monitoring.clusterRbac" -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ .root.Release.Namespace }}-{{ .component }}
  labels:
    {{- include "monitoring.labels" . | nindent 4 }}
rules:
  {{- .rules | nindent 2 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .root.Release.Namespace }}-{{ .component }}
  labels:
    {{- include "monitoring.labels" . | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .root.Release.Namespace }}-{{ .component }}
subjects:
  - kind: ServiceAccount
    name: {{ .component }}
    namespace: {{ .root.Release.Namespace }}
{{- end -}}

{{- define "monitoring.service" -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "monitoring.metadata" . | nindent 2 }}
spec:
  type: ClusterIP
  selector:
    {{- include "monitoring.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .portName | default "http" }}
      port: {{ .port }}
      targetPort: {{ .portName | default "http" }}
      protocol: TCP
{{- end -}}
