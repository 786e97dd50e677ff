{{/*
Deployment of one ECHO component.
Args: root, component (label value), values (the component's values), image (server|directus|agent),
container (container name), envKind (server|agent|directus), recreate (bool), fixedReplicas (int or nil).
*/}}
{{- define "echo.deployment" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- $hpa := include "echo.hpaEnabled" $v -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "echo.fullname" $root }}-{{ .component }}
  labels:
    {{- include "echo.labels" . | nindent 4 }}
spec:
  {{- if .recreate }}
  replicas: 1
  strategy:
    type: Recreate
  {{- else }}
  {{- if not $hpa }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: {{ $root.Values.rollout.maxUnavailable }}
      maxSurge: {{ $root.Values.rollout.maxSurge }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "echo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "echo.labels" . | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      priorityClassName: {{ $v.priorityClassName }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .container }}
          image: {{ include "echo.image" . }}
          imagePullPolicy: {{ $root.Values.global.imagePullPolicy }}
          {{- with $v.command }}
          command:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if $v.port }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          {{- end }}
          env:
            {{- if eq .envKind "server" }}
            {{- include "echo.commonEnv" $root | trim | nindent 12 }}
            {{- include "echo.secretEnv" $root | trim | nindent 12 }}
            {{- with $v.env }}{{ include "echo.literalEnv" . | trim | nindent 12 }}{{ end }}
            {{- else if eq .envKind "agent" }}
            {{- include "echo.secretRef" (dict "env" "GCP_SA_JSON" "key" "GCP_SA_JSON" "secret" $root.Values.backendSecret.name) | nindent 12 }}
            {{- with $v.env }}{{ include "echo.literalEnv" . | trim | nindent 12 }}{{ end }}
            {{- else if eq .envKind "directus" }}
            {{- include "echo.directusEnv" $root | trim | nindent 12 }}
            {{- end }}
          {{- range $kind := list "startup" "readiness" "liveness" }}
          {{- with index $v.probes $kind }}
          {{ $kind }}Probe:
            {{- include "echo.probe" (dict "root" $root "probe" .) | nindent 12 }}
          {{- end }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
{{- end -}}

{{- define "echo.hpaEnabled" -}}
{{- if and .autoscaling (gt (int .maxReplicaCount) (int .replicaCount)) -}}true{{- end -}}
{{- end -}}

{{- define "echo.hpa" -}}
{{- $v := .values -}}
{{- if include "echo.hpaEnabled" $v }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "echo.fullname" .root }}-{{ .component }}
  labels:
    {{- include "echo.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "echo.fullname" .root }}-{{ .component }}
  minReplicas: {{ $v.replicaCount }}
  maxReplicas: {{ $v.maxReplicaCount }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 60
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: 70
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
    scaleUp:
      stabilizationWindowSeconds: 60
{{- end }}
{{- end -}}

{{/* PDB only when more than one replica is guaranteed, so single-replica environments can drain nodes. */}}
{{- define "echo.pdb" -}}
{{- if gt (int .values.replicaCount) 1 }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "echo.fullname" .root }}-{{ .component }}
  labels:
    {{- include "echo.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  minAvailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "echo.selectorLabels" (dict "root" .root "component" .component) | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "echo.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "echo.fullname" .root }}-{{ .component }}
  labels:
    {{- include "echo.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "echo.selectorLabels" (dict "root" .root "component" .component) | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
{{- end -}}
