#!/usr/bin/env bash
# Install Apache Kafka on Kubernetes with the Strimzi operator, in KRaft mode (KafkaNodePool, no
# ZooKeeper), and create the topics the Todo service uses: task-events and its dead-letter topic.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NAMESPACE="${KAFKA_NAMESPACE:-kafka}"
CLUSTER="${KAFKA_CLUSTER:-todo-kafka}"
STRIMZI_VERSION="${STRIMZI_VERSION:-0.48.0}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.0}"
REPLICAS="${KAFKA_REPLICAS:-1}"
STORAGE="${KAFKA_STORAGE:-persistent}"
STORAGE_SIZE="${KAFKA_STORAGE_SIZE:-20Gi}"
STORAGE_CLASS="${KAFKA_STORAGE_CLASS:-do-block-storage}"
PARTITIONS="${KAFKA_PARTITIONS:-3}"
TOPIC="${KAFKA_TOPIC:-task-events}"
DLQ_TOPIC="${KAFKA_DLQ_TOPIC:-task-events-dlq}"
TIMEOUT="${KAFKA_TIMEOUT:-15m}"
CONTEXT=""

usage() {
  cat <<EOF
Usage: scripts/setup-kafka.sh [options]

Installs the Strimzi operator (Helm chart, OCI) into namespace $NAMESPACE, then a Kafka cluster
in KRaft mode: one KafkaNodePool of combined controller+broker nodes (no ZooKeeper), the entity
operators, and two KafkaTopics: $TOPIC ($PARTITIONS partitions) and $DLQ_TOPIC (dead letters).
Idempotent: re-running upgrades the operator and re-applies the resources.

Options (environment variable in brackets):
  -n, --namespace NS        namespace for the operator and the cluster [KAFKA_NAMESPACE] ($NAMESPACE)
  -c, --cluster NAME        Kafka cluster name [KAFKA_CLUSTER] ($CLUSTER)
  -r, --replicas N          node count; 3 gives a replicated, highly available cluster [KAFKA_REPLICAS] ($REPLICAS)
      --storage TYPE        persistent or ephemeral [KAFKA_STORAGE] ($STORAGE)
      --storage-size SIZE   volume size per node [KAFKA_STORAGE_SIZE] ($STORAGE_SIZE)
      --storage-class SC    StorageClass [KAFKA_STORAGE_CLASS] ($STORAGE_CLASS, DigitalOcean's block storage)
      --partitions N        partitions of $TOPIC [KAFKA_PARTITIONS] ($PARTITIONS)
      --strimzi-version V   Strimzi operator chart version [STRIMZI_VERSION] ($STRIMZI_VERSION)
      --kafka-version V     Kafka version (must be one the operator supports) [KAFKA_VERSION] ($KAFKA_VERSION)
      --context CTX         kubectl/helm context (default: the current one)
      --timeout DUR         how long to wait for the cluster and topics [KAFKA_TIMEOUT] ($TIMEOUT)
      --print-manifests     print the Kafka/KafkaNodePool/KafkaTopic manifests and exit
  -d, --dry-run             print every command and manifest, change nothing
  -h, --help                this help

Afterwards the brokers are at $CLUSTER-kafka-bootstrap.$NAMESPACE.svc:9092 (plain) and :9093 (TLS),
the chart's default kafka.bootstrapServers.
EOF
}

PRINT_ONLY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n | --namespace) NAMESPACE="${2:?}"; shift 2 ;;
    -c | --cluster) CLUSTER="${2:?}"; shift 2 ;;
    -r | --replicas) REPLICAS="${2:?}"; shift 2 ;;
    --storage) STORAGE="${2:?}"; shift 2 ;;
    --storage-size) STORAGE_SIZE="${2:?}"; shift 2 ;;
    --storage-class) STORAGE_CLASS="${2:?}"; shift 2 ;;
    --partitions) PARTITIONS="${2:?}"; shift 2 ;;
    --strimzi-version) STRIMZI_VERSION="${2:?}"; shift 2 ;;
    --kafka-version) KAFKA_VERSION="${2:?}"; shift 2 ;;
    --context) CONTEXT="${2:?}"; shift 2 ;;
    --timeout) TIMEOUT="${2:?}"; shift 2 ;;
    --print-manifests) PRINT_ONLY=1; shift ;;
    -d | --dry-run) DRY_RUN=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || die "--replicas must be a positive integer"
[[ "$PARTITIONS" =~ ^[1-9][0-9]*$ ]] || die "--partitions must be a positive integer"
[[ "$STORAGE" == persistent || "$STORAGE" == ephemeral ]] || die "--storage must be persistent or ephemeral"

# Replication settings follow the node count: 1 node -> RF 1; 3+ nodes -> RF 3, min ISR 2.
if [[ "$REPLICAS" -ge 3 ]]; then RF=3; MIN_ISR=2; else RF="$REPLICAS"; MIN_ISR=1; fi

storage_block() {
  if [[ "$STORAGE" == ephemeral ]]; then
    cat <<EOF
    type: jbod
    volumes:
      - id: 0
        type: ephemeral
        kraftMetadata: shared
EOF
  else
    cat <<EOF
    type: jbod
    volumes:
      - id: 0
        type: persistent-claim
        size: $STORAGE_SIZE
        class: $STORAGE_CLASS
        deleteClaim: false
        kraftMetadata: shared
EOF
  fi
}

manifests() {
  cat <<EOF
# KRaft: the node pool's nodes are both controllers and brokers; there is no ZooKeeper.
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaNodePool
metadata:
  name: dual-role
  namespace: $NAMESPACE
  labels:
    strimzi.io/cluster: $CLUSTER
spec:
  replicas: $REPLICAS
  roles:
    - controller
    - broker
  storage:
$(storage_block)
  resources:
    requests:
      cpu: 250m
      memory: 1Gi
    limits:
      memory: 2Gi
---
apiVersion: kafka.strimzi.io/v1beta2
kind: Kafka
metadata:
  name: $CLUSTER
  namespace: $NAMESPACE
  annotations:
    strimzi.io/node-pools: enabled
    strimzi.io/kraft: enabled
spec:
  kafka:
    version: $KAFKA_VERSION
    listeners:
      - name: plain
        port: 9092
        type: internal
        tls: false
      - name: tls
        port: 9093
        type: internal
        tls: true
    config:
      offsets.topic.replication.factor: $RF
      transaction.state.log.replication.factor: $RF
      transaction.state.log.min.isr: $MIN_ISR
      default.replication.factor: $RF
      min.insync.replicas: $MIN_ISR
      # Topics are declared below (KafkaTopic); a typo in a client must not create one.
      auto.create.topics.enable: false
  entityOperator:
    topicOperator: {}
    userOperator: {}
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: $TOPIC
  namespace: $NAMESPACE
  labels:
    strimzi.io/cluster: $CLUSTER
spec:
  partitions: $PARTITIONS
  replicas: $RF
  config:
    retention.ms: 604800000
    min.insync.replicas: $MIN_ISR
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata:
  name: $DLQ_TOPIC
  namespace: $NAMESPACE
  labels:
    strimzi.io/cluster: $CLUSTER
spec:
  partitions: 1
  replicas: $RF
  config:
    # Dead letters are kept longer: someone has to look at them.
    retention.ms: 2592000000
    min.insync.replicas: $MIN_ISR
EOF
}

if [[ "$PRINT_ONLY" -eq 1 ]]; then
  manifests
  exit 0
fi

require_unless_dry kubectl helm
use_context "$CONTEXT"

log "Strimzi $STRIMZI_VERSION operator in namespace $NAMESPACE"
# Strimzi's pods meet "baseline", not all of "restricted": enforce baseline, warn on restricted.
ensure_namespace "$NAMESPACE" baseline
run "${HELM[@]}" upgrade --install strimzi-cluster-operator \
  oci://quay.io/strimzi-helm/strimzi-kafka-operator --version "$STRIMZI_VERSION" \
  --namespace "$NAMESPACE" --wait --timeout 10m

log "Kafka $KAFKA_VERSION cluster '$CLUSTER' (KRaft, $REPLICAS node(s), $STORAGE storage) and topics"
manifests | apply_stdin

log "waiting for the cluster and the topics (up to $TIMEOUT)"
run "${KUBECTL[@]}" -n "$NAMESPACE" wait "kafka/$CLUSTER" --for=condition=Ready --timeout="$TIMEOUT"
run "${KUBECTL[@]}" -n "$NAMESPACE" wait "kafkatopic/$TOPIC" "kafkatopic/$DLQ_TOPIC" \
  --for=condition=Ready --timeout="$TIMEOUT"

log "done: bootstrap servers $CLUSTER-kafka-bootstrap.$NAMESPACE.svc:9092 (plain), :9093 (TLS)"
