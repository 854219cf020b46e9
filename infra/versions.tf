terraform {
  required_version = ">= 1.5.0"

  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.50"
    }
  }
}

# The token comes from var.do_token or, when that is empty, from the DIGITALOCEAN_TOKEN environment
# variable (the provider's own fallback), so it never has to be written into a file.
provider "digitalocean" {
  token = var.do_token != "" ? var.do_token : null
}
