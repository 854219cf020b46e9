variable "do_token" {
  description = "DigitalOcean API token. Leave empty to use the DIGITALOCEAN_TOKEN environment variable."
  type        = string
  default     = ""
  sensitive   = true
}

variable "name" {
  description = "Name prefix for every resource (the spec's cluster is todo-cluster)."
  type        = string
  default     = "todo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}[a-z0-9]$", var.name))
    error_message = "name must be 3-22 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "DigitalOcean region for the cluster, registry and databases."
  type        = string
  default     = "nyc1"
}

variable "kubernetes_version_prefix" {
  description = "Kubernetes minor to track, e.g. \"1.34.\"; empty = the newest version DOKS offers at plan time."
  type        = string
  default     = ""
}

variable "vpc_ip_range" {
  description = "Private network range of the VPC the cluster and the databases share."
  type        = string
  default     = "10.120.0.0/20"
}

variable "ha_control_plane" {
  description = "Highly available DOKS control plane (extra cost)."
  type        = bool
  default     = false
}

variable "node_size" {
  description = "Droplet size of the worker nodes (spec: s-2vcpu-4gb)."
  type        = string
  default     = "s-2vcpu-4gb"
}

variable "min_nodes" {
  description = "Minimum nodes of the autoscaling pool."
  type        = number
  default     = 2

  validation {
    condition     = var.min_nodes >= 1
    error_message = "min_nodes must be at least 1."
  }
}

variable "max_nodes" {
  description = "Maximum nodes of the autoscaling pool."
  type        = number
  default     = 5
}

variable "registry_tier" {
  description = "Container registry subscription tier: starter, basic or professional."
  type        = string
  default     = "basic"

  validation {
    condition     = contains(["starter", "basic", "professional"], var.registry_tier)
    error_message = "registry_tier must be starter, basic or professional."
  }
}

variable "registry_name" {
  description = "Container registry name (globally unique on DigitalOcean); empty = \"<name>-registry\"."
  type        = string
  default     = ""
}

variable "create_postgres" {
  description = "Create a managed PostgreSQL cluster, database and user for the service."
  type        = bool
  default     = true
}

variable "postgres_version" {
  description = "Managed PostgreSQL major version."
  type        = string
  default     = "17"
}

variable "postgres_size" {
  description = "Managed PostgreSQL node size. 2 GB allows 47 connections: enough for the default replicas at the chart's 2 connections per pod (1 GB allows only 22)."
  type        = string
  default     = "db-s-1vcpu-2gb"
}

variable "postgres_nodes" {
  description = "Managed PostgreSQL node count (2+ adds standbys)."
  type        = number
  default     = 1
}

variable "create_valkey" {
  description = "Create a managed Valkey (Redis-compatible) cluster for the Dapr state store."
  type        = bool
  default     = true
}

variable "valkey_version" {
  description = "Managed Valkey major version."
  type        = string
  default     = "8"
}

variable "valkey_size" {
  description = "Managed Valkey node size."
  type        = string
  default     = "db-s-1vcpu-1gb"
}

variable "create_kafka" {
  description = "Create a managed Kafka cluster (otherwise run Kafka in the cluster with scripts/setup-kafka.sh)."
  type        = bool
  default     = false
}

variable "kafka_version" {
  description = "Managed Kafka version."
  type        = string
  default     = "3.8"
}

variable "kafka_size" {
  description = "Managed Kafka node size."
  type        = string
  default     = "gd-2vcpu-8gb"
}

variable "kafka_nodes" {
  description = "Managed Kafka broker count (DigitalOcean requires 3)."
  type        = number
  default     = 3
}

variable "kafka_partitions" {
  description = "Partitions of the task-events topic."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Extra tags for every taggable resource."
  type        = list(string)
  default     = []
}
