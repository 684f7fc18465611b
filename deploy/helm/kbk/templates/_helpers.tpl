{{/* Names and labels. */}}
{{- define "kbk.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kbk.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kbk.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kbk.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kbk.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "kbk.workspaceConfigMap" -}}
{{- default (printf "%s-workspace" (include "kbk.fullname" .)) .Values.workspace.existingConfigMap -}}
{{- end -}}

{{/* Pod metadata: labels, Prometheus scrape annotations, Azure Workload Identity's label. */}}
{{- define "kbk.podMetadata" -}}
labels:
  {{- include "kbk.labels" . | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
  {{- if .Values.serviceAccount.azure.clientId }}
  azure.workload.identity/use: "true"
  {{- end }}
  {{- with .Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  {{- if .Values.metrics.enabled }}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .Values.metrics.port | quote }}
  prometheus.io/path: {{ .Values.metrics.path | quote }}
  {{- end }}
  {{- with .Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* What every kbk container has: image, env from referenced Secrets, the workspace, a writable /tmp. */}}
{{- define "kbk.containerBase" -}}
image: {{ include "kbk.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
workingDir: /workspace
{{- if .Values.credentials.existingSecrets }}
envFrom:
  {{- range .Values.credentials.existingSecrets }}
  - secretRef:
      name: {{ . }}
  {{- end }}
{{- end }}
env:
  - name: KBK_IN_AUTOMATION
    value: "1"
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if .Values.metrics.enabled }}
ports:
  - name: metrics
    containerPort: {{ .Values.metrics.port }}
{{- end }}
resources:
  {{- toYaml .Values.resources | nindent 2 }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end -}}

{{- define "kbk.volumeMounts" -}}
- name: workspace
  mountPath: /workspace
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Pod-level settings shared by every kbk pod. */}}
{{- define "kbk.podSpecBase" -}}
serviceAccountName: {{ include "kbk.serviceAccountName" . }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "kbk.volumes" -}}
- name: workspace
  configMap:
    name: {{ include "kbk.workspaceConfigMap" . }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{/* A CronJob running one kbk command (drift, drills). */}}
{{- define "kbk.commandCronJob" -}}
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ .name }}
  labels:
    {{- include "kbk.labels" . | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  schedule: {{ .schedule | quote }}
  {{- with .Values.backup.timeZone }}
  timeZone: {{ . | quote }}
  {{- end }}
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: {{ .Values.backup.successfulJobsHistoryLimit }}
  failedJobsHistoryLimit: {{ .Values.backup.failedJobsHistoryLimit }}
  jobTemplate:
    spec:
      backoffLimit: 0
      ttlSecondsAfterFinished: {{ .Values.backup.ttlSecondsAfterFinished }}
      template:
        metadata:
          {{- include "kbk.podMetadata" . | nindent 10 }}
        spec:
          {{- include "kbk.podSpecBase" . | nindent 10 }}
          restartPolicy: Never
          containers:
            - name: kbk
              {{- include "kbk.containerBase" . | nindent 14 }}
              args:
                {{- toYaml .args | nindent 16 }}
              volumeMounts:
                {{- include "kbk.volumeMounts" . | nindent 16 }}
          volumes:
            {{- include "kbk.volumes" . | nindent 12 }}
{{- end -}}
