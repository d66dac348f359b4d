"""The project's threat model: the seed attack tree's node ids, names and ratings, carried as data.

Ratings are the tree's own (likelihood, impact, effort, skill, detection difficulty); where the tree
gives two values ("Medium (if updates are neglected) / Low ...") both are kept, shortened.

Branch 6 is hardener's own addition (`seed=False`): the seed tree has no supply-chain node, and an
unpinned image (IMG001) is not an unpatched host kernel (1.1.1), which only the host audit sees.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttackNode:
    id: str
    name: str
    branch: str
    likelihood: str = ""
    impact: str = ""
    effort: str = ""
    skill: str = ""
    detection: str = ""
    high_risk: bool = True
    critical: bool = False
    where: str = "compose"  # "compose": visible in a compose file; "host": only on the host
    seed: bool = True  # a node of the seed attack tree (False: added by hardener)


BRANCHES = {
    "1": "Escape container (breakout)",
    "2": "Lateral movement between containers",
    "3": "Denial of service",
    "4": "Data exfiltration",
    "5": "Privilege escalation inside the container",
    "6": "Supply chain (added by hardener; not in the seed tree)",
}

NODES: dict[str, AttackNode] = {n.id: n for n in (
    AttackNode("1.1.1", "Unpatched host kernel", "1", "Medium if updates are neglected / Low",
               "Very High", "High (0-day) / Medium (known)", "Expert / Advanced", "Hard / Medium",
               critical=True, where="host"),
    AttackNode("1.1.2", "Misconfigured capabilities (e.g. SYS_ADMIN, SYS_PTRACE)", "1", "Medium", "High",
               "Low", "Intermediate", "Medium"),
    AttackNode("1.2.1", "Unpatched Docker daemon", "1", "Medium if updates are neglected / Low", "Very High",
               "High (0-day) / Medium (known)", "Expert / Advanced", "Hard / Medium", critical=True, where="host"),
    AttackNode("1.2.2", "Docker daemon API exposed without authentication", "1", "Low", "Very High", "Low",
               "Intermediate", "Medium"),
    AttackNode("1.2.3", "Privileged container execution (--privileged)", "1", "Low", "Very High", "Very Low",
               "Beginner", "Easy"),
    AttackNode("1.3.2", "Vulnerable runc version", "1", "Medium if updates are neglected / Low", "High", "Medium",
               "Advanced", "Medium", where="host"),
    AttackNode("2.1.1", "Unrestricted inter-container communication", "2", "High", "Medium", "Very Low",
               "Beginner", "Medium"),
    AttackNode("2.2.1", "Overly permissive volume permissions", "2", "Medium", "Medium", "Low", "Beginner", "Easy"),
    AttackNode("3.1.1", "CPU/memory limits not set", "3", "High", "Medium", "Low", "Beginner", "Easy"),
    AttackNode("3.1.2", "Disk space exhaustion (logs, data)", "3", "Medium", "Medium", "Low", "Beginner", "Easy"),
    AttackNode("3.2.1", "Infinite restart loops", "3", "Medium", "Medium", "Very Low", "Beginner", "Easy"),
    AttackNode("4.1.1", "Unnecessary ports published to host", "4", "Medium", "Medium to High", "Very Low",
               "Beginner", "Easy"),
    AttackNode("4.1.2", "Unauthenticated access to exposed ports", "4", "Medium", "High", "Low", "Beginner",
               "Medium"),
    AttackNode("5.1.1", "Default root user", "5", "High", "Medium", "Very Low", "Beginner", "Easy",
               critical=True),
    AttackNode("5.2.1", "Excessive capabilities granted", "5", "Medium", "Medium", "Low", "Intermediate",
               "Medium"),
    AttackNode("6.1.1", "Unpinned or re-pointable image (unknown patch level, tag moved by its publisher)", "6",
               "Medium", "High", "Low (for whoever controls the tag)", "Intermediate", "Hard", seed=False),
)}


def ratings(node_id: str) -> dict[str, str]:
    n = NODES[node_id]
    return {"likelihood": n.likelihood, "impact": n.impact, "effort": n.effort, "skill": n.skill,
            "detection": n.detection}
