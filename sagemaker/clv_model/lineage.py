"""Lineage recorded with every model: code commit, schema hash, snapshots, cutoffs, hyperparameters."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

COMMIT_ENV_VARS = ("CLV_CODE_COMMIT", "GIT_COMMIT", "CODEBUILD_RESOLVED_SOURCE_VERSION", "GITHUB_SHA")


def code_commit(env: dict[str, str] | None = None) -> str:
    """The code commit: from the environment (set by the pipeline), else `git rev-parse HEAD`, else
    "unknown"."""
    env = os.environ if env is None else env
    for var in COMMIT_ENV_VARS:
        if env.get(var):
            return env[var]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) >= 7 else "unknown"
