{{/*
Naming and labels: the `helm create` vocabulary, plus app.kubernetes.io/component per function.
*/}}

{{- define "todo-app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "todo-app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-app.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "todo-app.labels" -}}
helm.sh/chart: {{ include "todo-app.chart" . }}
{{ include "todo-app.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: todo-app
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Annotations common to every resource (renders nothing when empty). */}}
{{- define "todo-app.annotations" -}}
{{- with .Values.commonAnnotations -}}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Per-component helpers take a dict: {"root": $, "name": "<component key>"}.
*/}}
{{- define "todo-app.componentName" -}}
{{- printf "%s-%s" (include "todo-app.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "todo-app.componentSelectorLabels" -}}
{{ include "todo-app.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "todo-app.componentLabels" -}}
{{ include "todo-app.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/*
The effective settings of one function: functionDefaults deep-merged with its own entry, on copies,
so .Values is never mutated. Returns YAML; use with fromYaml.
*/}}
{{- define "todo-app.functionConfig" -}}
{{- $defaults := deepCopy (default dict .root.Values.functionDefaults) }}
{{- $own := deepCopy (default dict .fn) }}
{{- $merged := mergeOverwrite $defaults $own }}
{{- if not $merged.dapr }}{{ $_ := set $merged "dapr" dict }}{{ end }}
{{- if not $merged.dapr.appId }}{{ $_ := set $merged.dapr "appId" .name }}{{ end }}
{{- if not $merged.dapr.appPort }}{{ $_ := set $merged.dapr "appPort" $merged.port }}{{ end }}
{{- if not $merged.image }}{{ $_ := set $merged "image" dict }}{{ end }}
{{- if not $merged.image.repository }}{{ $_ := set $merged.image "repository" (printf "todo-%s" .name) }}{{ end }}
{{- if not (hasKey $merged "routes") }}{{ $_ := set $merged "routes" list }}{{ end }}
{{- toYaml $merged }}
{{- end }}

{{/* Image reference: {"root": $, "image": {repository, tag, digest}}. */}}
{{- define "todo-app.image" -}}
{{- $registry := .root.Values.image.registry | trimSuffix "/" }}
{{- $repo := .image.repository }}
{{- $ref := ternary $repo (printf "%s/%s" $registry $repo) (eq $registry "") }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{- define "todo-app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-app.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding database-url, redis-password and kafka-password. */}}
{{- define "todo-app.secretName" -}}
{{- if .Values.secrets.create }}
{{- include "todo-app.fullname" . }}
{{- else }}
{{- required "secrets.existingSecret is required when secrets.create=false" .Values.secrets.existingSecret }}
{{- end }}
{{- end }}

{{/* Secrets with key `token`, as Dapr's dapr.io/api-token-secret and dapr.io/app-token-secret expect. */}}
{{- define "todo-app.daprApiTokenSecret" -}}
{{- default (printf "%s-dapr-api-token" (include "todo-app.fullname" .)) .Values.dapr.apiToken.existingSecret }}
{{- end }}

{{- define "todo-app.appApiTokenSecret" -}}
{{- default (printf "%s-app-api-token" (include "todo-app.fullname" .)) .Values.dapr.apiToken.existingAppSecret }}
{{- end }}

{{- define "todo-app.gatewayName" -}}
{{- default (include "todo-app.fullname" .) .Values.gateway.name }}
{{- end }}

{{- define "todo-app.gatewayNamespace" -}}
{{- if .Values.gateway.create }}
{{- .Release.Namespace }}
{{- else }}
{{- default .Release.Namespace .Values.gateway.namespace }}
{{- end }}
{{- end }}

{{/* parentRefs + hostnames shared by every HTTPRoute of the release. */}}
{{- define "todo-app.parentRefs" -}}
parentRefs:
  - group: gateway.networking.k8s.io
    kind: Gateway
    name: {{ include "todo-app.gatewayName" . }}
    namespace: {{ include "todo-app.gatewayNamespace" . }}
    {{- with .Values.gateway.sectionName }}
    sectionName: {{ . }}
    {{- end }}
{{- with .Values.hostnames }}
hostnames:
  {{- range . }}
  - {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Dapr app-ids of every enabled function, as a YAML list. */}}
{{- define "todo-app.daprAppIds" -}}
{{- $ids := list }}
{{- range $name, $fn := .Values.functions }}
{{- if $fn.enabled }}
{{- $cfg := include "todo-app.functionConfig" (dict "root" $ "name" $name "fn" $fn) | fromYaml }}
{{- $ids = append $ids $cfg.dapr.appId }}
{{- end }}
{{- end }}
{{- toYaml $ids }}
{{- end }}

{{/* The app-id of the subscriber function. */}}
{{- define "todo-app.subscriberAppId" -}}
{{- $key := .Values.dapr.subscription.subscriber }}
{{- $fn := index .Values.functions $key }}
{{- if not $fn }}{{ fail (printf "dapr.subscription.subscriber %q is not a key of functions" $key) }}{{ end }}
{{- $cfg := include "todo-app.functionConfig" (dict "root" . "name" $key "fn" $fn) | fromYaml }}
{{- $cfg.dapr.appId }}
{{- end }}

{{/* Restricted container security context. */}}
{{- define "todo-app.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}
