# DigitalOcean Kubernetes (DOKS) for the Todo service: a VPC, the cluster with an autoscaling node
# pool on a current Kubernetes version (looked up at plan time), the container registry, and optional
# managed PostgreSQL, Valkey (Redis-compatible) and Kafka clusters reachable only from the cluster.

locals {
  tags          = distinct(concat(["todo", var.name], var.tags))
  registry_name = var.registry_name != "" ? var.registry_name : "${var.name}-registry"
}

# Newest DOKS version matching the prefix, at plan time (no hard-coded "1.28.2-do.0").
data "digitalocean_kubernetes_versions" "current" {
  version_prefix = var.kubernetes_version_prefix
}

resource "digitalocean_vpc" "todo" {
  name     = "${var.name}-vpc"
  region   = var.region
  ip_range = var.vpc_ip_range
}

resource "digitalocean_kubernetes_cluster" "todo" {
  name          = "${var.name}-cluster"
  region        = var.region
  version       = data.digitalocean_kubernetes_versions.current.latest_version
  vpc_uuid      = digitalocean_vpc.todo.id
  ha            = var.ha_control_plane
  auto_upgrade  = true
  surge_upgrade = true
  tags          = local.tags

  maintenance_policy {
    day        = "sunday"
    start_time = "04:00"
  }

  node_pool {
    name       = "${var.name}-pool"
    size       = var.node_size
    auto_scale = true
    min_nodes  = var.min_nodes
    max_nodes  = max(var.max_nodes, var.min_nodes)
    tags       = local.tags
    labels = {
      "todo.app/pool" = "default"
    }
  }
}

resource "digitalocean_container_registry" "todo" {
  name                   = local.registry_name
  subscription_tier_slug = var.registry_tier
  region                 = var.region
}

# Read-only pull credentials for the cluster (scripts/deploy-doks.sh can create the same Secret
# with doctl; this output serves GitOps setups).
resource "digitalocean_container_registry_docker_credentials" "pull" {
  registry_name = digitalocean_container_registry.todo.name
  write         = false
}

# ---------------------------------------------------------------- PostgreSQL (optional)

resource "digitalocean_database_cluster" "postgres" {
  count = var.create_postgres ? 1 : 0

  name                 = "${var.name}-pg"
  engine               = "pg"
  version              = var.postgres_version
  size                 = var.postgres_size
  region               = var.region
  node_count           = var.postgres_nodes
  private_network_uuid = digitalocean_vpc.todo.id
  tags                 = local.tags
}

resource "digitalocean_database_db" "todo" {
  count = var.create_postgres ? 1 : 0

  cluster_id = digitalocean_database_cluster.postgres[0].id
  name       = "todo"
}

resource "digitalocean_database_user" "todo" {
  count = var.create_postgres ? 1 : 0

  cluster_id = digitalocean_database_cluster.postgres[0].id
  name       = "todo"
}

resource "digitalocean_database_firewall" "postgres" {
  count = var.create_postgres ? 1 : 0

  cluster_id = digitalocean_database_cluster.postgres[0].id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.todo.id
  }
}

# ---------------------------------------------------------------- Valkey / Redis-compatible (optional)

resource "digitalocean_database_cluster" "valkey" {
  count = var.create_valkey ? 1 : 0

  name                 = "${var.name}-valkey"
  engine               = "valkey"
  version              = var.valkey_version
  size                 = var.valkey_size
  region               = var.region
  node_count           = 1
  private_network_uuid = digitalocean_vpc.todo.id
  tags                 = local.tags
}

resource "digitalocean_database_firewall" "valkey" {
  count = var.create_valkey ? 1 : 0

  cluster_id = digitalocean_database_cluster.valkey[0].id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.todo.id
  }
}

# ---------------------------------------------------------------- Kafka (optional)

resource "digitalocean_database_cluster" "kafka" {
  count = var.create_kafka ? 1 : 0

  name                 = "${var.name}-kafka"
  engine               = "kafka"
  version              = var.kafka_version
  size                 = var.kafka_size
  region               = var.region
  node_count           = var.kafka_nodes
  private_network_uuid = digitalocean_vpc.todo.id
  tags                 = local.tags
}

resource "digitalocean_database_kafka_topic" "task_events" {
  count = var.create_kafka ? 1 : 0

  cluster_id         = digitalocean_database_cluster.kafka[0].id
  name               = "task-events"
  partition_count    = var.kafka_partitions
  replication_factor = 3

  config {
    retention_ms        = "604800000"
    min_insync_replicas = 2
  }
}

resource "digitalocean_database_kafka_topic" "task_events_dlq" {
  count = var.create_kafka ? 1 : 0

  cluster_id         = digitalocean_database_cluster.kafka[0].id
  name               = "task-events-dlq"
  partition_count    = 1
  replication_factor = 3

  config {
    retention_ms        = "2592000000"
    min_insync_replicas = 2
  }
}

# The service's own Kafka user: produce and consume on its two topics only.
resource "digitalocean_database_user" "kafka" {
  count = var.create_kafka ? 1 : 0

  cluster_id = digitalocean_database_cluster.kafka[0].id
  name       = "todo"

  settings {
    acl {
      topic      = "task-events*"
      permission = "produceconsume"
    }
  }
}

resource "digitalocean_database_firewall" "kafka" {
  count = var.create_kafka ? 1 : 0

  cluster_id = digitalocean_database_cluster.kafka[0].id

  rule {
    type  = "k8s"
    value = digitalocean_kubernetes_cluster.todo.id
  }
}
