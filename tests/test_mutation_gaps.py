"""Tests added for mutants that survived scripts/mutation (see its report)."""

from __future__ import annotations
