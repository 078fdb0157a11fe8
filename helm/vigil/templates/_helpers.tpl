{{/* Names, labels and the wiring shared by several templates. */}}

{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: FULLNAME-COMPONENT (kept within 63 characters). */}}
{{- define "vigil.component" -}}
{{- printf "%s-%s" (include "vigil.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component -}}
{{- end -}}

{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "vigil.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: vigil
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "vigil.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The gateway's image: its own (the Dockerfile's torch-free `gateway` target) when set. */}}
{{- define "vigil.gatewayImage" -}}
{{- if .Values.gateway.image.repository -}}
{{- printf "%s:%s" .Values.gateway.image.repository (default .Chart.AppVersion .Values.gateway.image.tag) -}}
{{- else -}}
{{- include "vigil.image" . -}}
{{- end -}}
{{- end -}}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Paths inside the Vigil pods. */}}
{{- define "vigil.configDir" -}}/etc/vigil/config{{- end -}}
{{- define "vigil.configPath" -}}/etc/vigil/config/vigil.yaml{{- end -}}
{{- define "vigil.policyDir" -}}/etc/vigil/policy{{- end -}}
{{- define "vigil.gateDir" -}}/etc/vigil/gate{{- end -}}
{{- define "vigil.kafkaTlsDir" -}}/etc/vigil/kafka-tls{{- end -}}
{{- define "vigil.scratchDir" -}}/var/lib/vigil/scratch{{- end -}}
{{- define "vigil.dataDir" -}}/var/lib/vigil/data{{- end -}}

{{- define "vigil.servedModelName" -}}
{{- default .Values.vllm.model.name .Values.vllm.model.servedName -}}
{{- end -}}

{{/* The model argument of `vllm serve` and the trainer's base_model: a path or a hub id. */}}
{{- define "vigil.modelRef" -}}
{{- if eq .Values.vllm.model.source "pvc" -}}
{{- printf "%s/%s" (trimSuffix "/" .Values.vllm.model.pvc.mountPath) (trimPrefix "/" .Values.vllm.model.pvc.path) -}}
{{- else -}}
{{- .Values.vllm.model.name -}}
{{- end -}}
{{- end -}}

{{/* The engines' URL for the gateway: the headless Service, one DNS record per replica. */}}
{{- define "vigil.upstreamUrl" -}}
{{- if .Values.vllm.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "vigil.component" (dict "root" . "component" "vllm-headless")) .Release.Namespace (int .Values.vllm.port) -}}
{{- else -}}
{{- required "vllm.externalUrl is required when vllm.enabled is false" .Values.vllm.externalUrl -}}
{{- end -}}
{{- end -}}

{{- define "vigil.trainerEngineUrl" -}}
{{- if .Values.trainer.engineUrl -}}
{{- .Values.trainer.engineUrl -}}
{{- else if .Values.vllm.enabled -}}
{{- printf "http://%s.%s.svc:%d" (include "vigil.component" (dict "root" . "component" "vllm")) .Release.Namespace (int .Values.vllm.port) -}}
{{- else -}}
{{- .Values.vllm.externalUrl -}}
{{- end -}}
{{- end -}}

{{- define "vigil.authSecretName" -}}
{{- default (include "vigil.component" (dict "root" . "component" "auth")) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "vigil.hfTokenSecretName" -}}
{{- default (include "vigil.component" (dict "root" . "component" "hf-token")) .Values.vllm.model.hfToken.existingSecret -}}
{{- end -}}

{{- define "vigil.hasHfToken" -}}
{{- if or .Values.vllm.model.hfToken.existingSecret .Values.vllm.model.hfToken.value -}}true{{- end -}}
{{- end -}}

{{- define "vigil.kafkaSaslSecretName" -}}
{{- default (include "vigil.component" (dict "root" . "component" "kafka-sasl")) .Values.kafka.sasl.existingSecret -}}
{{- end -}}

{{- define "vigil.hasKafkaSasl" -}}
{{- if and .Values.kafka.enabled (or .Values.kafka.sasl.existingSecret .Values.kafka.sasl.password) -}}true{{- end -}}
{{- end -}}

{{- define "vigil.adaptersClaim" -}}
{{- default (include "vigil.component" (dict "root" . "component" "adapters")) .Values.adapters.persistence.existingClaim -}}
{{- end -}}

{{/*
vigil.yaml: `config` with the keys the chart owns set from the other values (they win).
*/}}
{{- define "vigil.config" -}}
{{- $v := .Values -}}
{{- $wired := dict
  "server" (dict "host" "0.0.0.0" "port" (int $v.gateway.port))
  "upstream" (dict "url" (include "vigil.upstreamUrl" .))
  "policy" (dict "file" (printf "%s/policy.yaml" (include "vigil.policyDir" .)))
  "rollout" (dict "alias" $v.modelAlias "base_model" (include "vigil.servedModelName" .) "registry_dir" $v.adapters.mountPath)
-}}
{{- if $v.vllm.enabled -}}
{{- $_ := set $wired.upstream "discover_dns" true -}}
{{- end -}}
{{- $rollout := default dict $v.config.rollout -}}
{{- if not $rollout.enabled -}}
{{- $_ := set $wired "models" (dict $v.modelAlias (include "vigil.servedModelName" .)) -}}
{{- end -}}
{{- $events := dict "spool_dir" (printf "%s/spool" (include "vigil.scratchDir" .)) -}}
{{- if $v.kafka.enabled -}}
{{- $security := deepCopy $v.kafka.security -}}
{{- if $v.kafka.tls.secretName -}}
{{- $_ := set $security "ssl_cafile" (printf "%s/%s" (include "vigil.kafkaTlsDir" .) $v.kafka.tls.caKey) -}}
{{- if $v.kafka.tls.certKey -}}
{{- $_ := set $security "ssl_certfile" (printf "%s/%s" (include "vigil.kafkaTlsDir" .) $v.kafka.tls.certKey) -}}
{{- end -}}
{{- if $v.kafka.tls.keyKey -}}
{{- $_ := set $security "ssl_keyfile" (printf "%s/%s" (include "vigil.kafkaTlsDir" .) $v.kafka.tls.keyKey) -}}
{{- end -}}
{{- end -}}
{{- $_ := set $events "backend" "kafka" -}}
{{- $_ := set $events "topics" (deepCopy $v.kafka.topics) -}}
{{- $_ := set $events "kafka" (dict "bootstrap_servers" $v.kafka.bootstrapServers "security" $security) -}}
{{- else -}}
{{- $_ := set $events "backend" "none" -}}
{{- end -}}
{{- $_ := set $wired "events" $events -}}
{{- $trainer := dict
  "store_path" (printf "%s/dataset.db" (include "vigil.dataDir" .))
  "metrics_host" "0.0.0.0"
  "metrics_port" (int $v.trainer.metricsPort)
  "base_model" (include "vigil.modelRef" .)
  "engine_url" (include "vigil.trainerEngineUrl" .)
  "max_rank" (int $v.vllm.maxLoraRank)
-}}
{{- if $v.trainer.gate.enabled -}}
{{- $_ := set $trainer "gate" (dict "harmful_prompts" (printf "%s/harmful.txt" (include "vigil.gateDir" .)) "benign_prompts" (printf "%s/benign.txt" (include "vigil.gateDir" .))) -}}
{{- end -}}
{{- $_ := set $wired "trainer" $trainer -}}
{{- if $v.judgeVersions.enabled -}}
{{- $_ := set $wired "judges" (dict "harm" (dict "versions_dir" (printf "%s/judges" (trimSuffix "/" $v.adapters.mountPath)))) -}}
{{- end -}}
{{- $config := mustMergeOverwrite (deepCopy $v.config) $wired -}}
{{- if not $v.trainer.gate.enabled -}}
{{- $_ := unset $config.trainer "gate" -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Environment of the Vigil containers (gateway, trainer): secrets as VIGIL_* overrides.
Arguments: root, hfToken (bool: the trainer downloads the base model from the hub). */}}
{{- define "vigil.env" -}}
{{- $root := .root -}}
- name: HOME
  value: {{ include "vigil.scratchDir" $root }}
- name: TMPDIR
  value: /tmp
- name: HF_HOME
  value: {{ include "vigil.scratchDir" $root }}/huggingface
- name: VIGIL_AUTH__KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "vigil.authSecretName" $root }}
      key: {{ $root.Values.auth.secretKeys.keys }}
      optional: true
- name: VIGIL_AUTH__ADMIN_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "vigil.authSecretName" $root }}
      key: {{ $root.Values.auth.secretKeys.adminKeys }}
      optional: true
- name: VIGIL_AUTH__REVIEWER_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "vigil.authSecretName" $root }}
      key: {{ $root.Values.auth.secretKeys.reviewerKeys }}
      optional: true
{{- if include "vigil.hasKafkaSasl" $root }}
- name: VIGIL_EVENTS__KAFKA__SECURITY__SASL_PLAIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "vigil.kafkaSaslSecretName" $root }}
      key: {{ $root.Values.kafka.sasl.key }}
{{- end }}
{{- if and .hfToken (include "vigil.hasHfToken" $root) }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "vigil.hfTokenSecretName" $root }}
      key: {{ $root.Values.vllm.model.hfToken.key }}
{{- end }}
{{- end -}}

{{/* Volumes both Vigil pods have. Arguments: root, scratchSizeLimit. */}}
{{- define "vigil.commonVolumes" -}}
{{- $root := .root -}}
- name: config
  configMap:
    name: {{ include "vigil.component" (dict "root" $root "component" "config") }}
- name: scratch
  emptyDir:
    sizeLimit: {{ .scratchSizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
- name: adapters
  persistentVolumeClaim:
    claimName: {{ include "vigil.adaptersClaim" $root }}
{{- if and $root.Values.kafka.enabled $root.Values.kafka.tls.secretName }}
- name: kafka-tls
  secret:
    secretName: {{ $root.Values.kafka.tls.secretName }}
{{- end }}
{{- end -}}

{{- define "vigil.commonMounts" -}}
- name: config
  mountPath: {{ include "vigil.configDir" . }}
  readOnly: true
- name: scratch
  mountPath: {{ include "vigil.scratchDir" . }}
- name: tmp
  mountPath: /tmp
- name: adapters
  mountPath: {{ .Values.adapters.mountPath }}
{{- if and .Values.kafka.enabled .Values.kafka.tls.secretName }}
- name: kafka-tls
  mountPath: {{ include "vigil.kafkaTlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}
