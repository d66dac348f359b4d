"""The rule registry: an explicit, ordered tuple of rule modules (no import-time registration)."""
from . import (cap_drop_all, datastore_ports, docker_socket, env_secrets, image_pinning, log_rotation,
               network_segmentation, non_root_user, ports_loopback, readonly_mounts, resource_limits,
               restart_policy, sensitive_mounts, shared_volumes, unauthenticated_service, unused_suppression)

RULES = (
    cap_drop_all,
    non_root_user,
    readonly_mounts,
    ports_loopback,
    resource_limits,
    restart_policy,
    network_segmentation,
    log_rotation,
    docker_socket,
    sensitive_mounts,
    shared_volumes,
    unauthenticated_service,
    datastore_ports,
    image_pinning,
    env_secrets,
    unused_suppression,
)

BY_KEY = {key: rule for rule in RULES for key in (rule.ID, rule.NAME)}
