output "cluster_id" {
  description = "DOKS cluster id."
  value       = digitalocean_kubernetes_cluster.todo.id
}

output "cluster_name" {
  description = "DOKS cluster name (for `doctl kubernetes cluster kubeconfig save` and scripts/deploy-doks.sh --cluster)."
  value       = digitalocean_kubernetes_cluster.todo.name
}

output "kubernetes_version" {
  description = "Kubernetes version the cluster was created with (looked up at plan time)."
  value       = digitalocean_kubernetes_cluster.todo.version
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = digitalocean_kubernetes_cluster.todo.endpoint
}

output "kubeconfig" {
  description = "Kubeconfig of the cluster: terraform output -raw kubeconfig > ~/.kube/todo.yaml"
  value       = digitalocean_kubernetes_cluster.todo.kube_config[0].raw_config
  sensitive   = true
}

output "registry" {
  description = "Image prefix for docker/build-images.sh and scripts/deploy-doks.sh --registry."
  value       = "${digitalocean_container_registry.todo.server_url}/${digitalocean_container_registry.todo.name}"
}

output "registry_pull_secret_dockerconfigjson" {
  description = "Read-only .dockerconfigjson for an image pull Secret."
  value       = digitalocean_container_registry_docker_credentials.pull.docker_credentials
  sensitive   = true
}

output "database_url" {
  description = "DATABASE_URL for the functions (private network, TLS), or null without managed PostgreSQL."
  value = var.create_postgres ? format(
    "postgres://%s:%s@%s:%d/%s?sslmode=require",
    digitalocean_database_user.todo[0].name,
    urlencode(digitalocean_database_user.todo[0].password),
    digitalocean_database_cluster.postgres[0].private_host,
    digitalocean_database_cluster.postgres[0].port,
    digitalocean_database_db.todo[0].name,
  ) : null
  sensitive = true
}

output "redis_host" {
  description = "host:port for the chart's redis.host (TLS: set redis.tls=true), or null without managed Valkey."
  value = var.create_valkey ? format("%s:%d",
    digitalocean_database_cluster.valkey[0].private_host,
  digitalocean_database_cluster.valkey[0].port) : null
}

output "redis_password" {
  description = "Valkey password for the chart's secrets.redisPassword."
  value       = var.create_valkey ? digitalocean_database_cluster.valkey[0].password : null
  sensitive   = true
}

output "kafka_bootstrap_servers" {
  description = "Bootstrap servers for the chart's kafka.bootstrapServers (SASL + TLS), or null without managed Kafka."
  value = var.create_kafka ? format("%s:%d",
    digitalocean_database_cluster.kafka[0].private_host,
  digitalocean_database_cluster.kafka[0].port) : null
}

output "kafka_username" {
  description = "SASL user for kafka.saslUsername."
  value       = var.create_kafka ? digitalocean_database_user.kafka[0].name : null
}

output "kafka_password" {
  description = "SASL password for secrets.kafkaPassword."
  value       = var.create_kafka ? digitalocean_database_user.kafka[0].password : null
  sensitive   = true
}

output "helm_values" {
  description = "Non-secret chart values matching what was created (write to a file and pass with -f)."
  value = yamlencode(merge(
    {
      image = {
        registry = "${digitalocean_container_registry.todo.server_url}/${digitalocean_container_registry.todo.name}"
      }
    },
    var.create_valkey ? {
      redis = {
        host = format("%s:%d", digitalocean_database_cluster.valkey[0].private_host, digitalocean_database_cluster.valkey[0].port)
        tls  = true
      }
    } : {},
    var.create_kafka ? {
      kafka = {
        bootstrapServers = format("%s:%d", digitalocean_database_cluster.kafka[0].private_host, digitalocean_database_cluster.kafka[0].port)
        authType         = "password"
        saslUsername     = digitalocean_database_user.kafka[0].name
        saslMechanism    = "SHA-512"
        tls              = true
      }
    } : {},
  ))
}
