"""The rule registry: an explicit, ordered tuple of rule modules (no import-time registration)."""
from . import (cap_drop_all, dangerous_capabilities, datastore_ports, docker_socket, env_secrets, host_devices,
               host_namespaces, image_pinning, log_rotation, network_segmentation, no_new_privileges,
               non_root_user, pids_limit, ports_loopback, privileged, read_only_rootfs, readonly_mounts,
               resource_limits, restart_policy, security_profiles, sensitive_mounts, shared_volumes,
               unauthenticated_service, unused_suppression)

RULES = (
    cap_drop_all,            # CAP001
    privileged,              # PRV001
    dangerous_capabilities,  # CAP002
    host_namespaces,         # ISO001
    security_profiles,       # ISO002
    host_devices,            # ISO003
    no_new_privileges,       # PRV002
    non_root_user,           # USR001
    readonly_mounts,         # VOL001
    read_only_rootfs,        # FS001
    ports_loopback,          # PRT001
    resource_limits,         # RES001
    pids_limit,              # RES002
    restart_policy,          # RST001
    network_segmentation,    # NET001
    log_rotation,            # LOG001
    docker_socket,           # DKR001
    sensitive_mounts,        # VOL002
    shared_volumes,          # VOL003
    unauthenticated_service,  # AUTH001
    datastore_ports,         # PRT002
    image_pinning,           # IMG001
    env_secrets,             # SEC001
    unused_suppression,      # HRD001
)

BY_KEY = {key: rule for rule in RULES for key in (rule.ID, rule.NAME)}
