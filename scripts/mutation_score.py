"""Summarise a finished `mutmut run` (called by scripts/mutation, in mutmut's folder).

Prints the counts, the score (killed / (killed + survived), timeouts counted as killed: the
mutant made the tests hang, which they noticed), the same score over mutants that change
behaviour rather than only the wording of a message, and the diff of every survivor.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

mutmut = sys.argv[1]
listing = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True)
status: dict[str, str] = {}
for line in listing.stdout.splitlines():
    name, _, state = line.strip().rpartition(": ")
    if name:
        status[name] = state.strip()

counts = Counter(status.values())


def diff_of(name: str) -> str:
    shown = subprocess.run([mutmut, "show", name], capture_output=True, text=True).stdout
    return "\n".join(line for line in shown.splitlines() if line.startswith(("-", "+")))


def wording_only(diff: str) -> bool:
    """The mutant changed nothing but the text inside a string literal that is message
    wording (XX-wrapped, or case-changed), not a value the code compares or parses."""
    removed = [x[1:] for x in diff.splitlines() if x.startswith("-") and not x.startswith("---")]
    added = [x[1:] for x in diff.splitlines() if x.startswith("+") and not x.startswith("+++")]
    if len(removed) != 1 or len(added) != 1:
        return False
    before, after = removed[0], added[0]
    if after.replace("XX", "") == before or after.lower() == before.lower():
        return " " in re.sub(r"^[^\"']*[\"']", "", before)  # a sentence, not a token
    return False


survivors = sorted(name for name, state in status.items() if state == "survived")
diffs = {name: diff_of(name) for name in survivors}
wording = [name for name in survivors if wording_only(diffs[name])]
killed = counts["killed"] + counts["timeout"]
behaviour_survivors = len(survivors) - len(wording)
total = killed + len(survivors)
print(f"mutants: {dict(counts)}")
if total:
    print(f"score: {killed}/{total} killed = {100 * killed / total:.1f}%")
    behaviour_total = killed + behaviour_survivors
    print(
        f"score without message-wording mutants ({len(wording)} survivors only reword a "
        f"message): {killed}/{behaviour_total} = {100 * killed / behaviour_total:.1f}%"
    )
print(f"\n{behaviour_survivors} survivor(s) that change behaviour:")
for name in survivors:
    if name not in wording:
        print(f"\n## {name}\n{diffs[name]}")
print(f"\n{len(wording)} survivor(s) that only reword a message:")
for name in wording:
    print(f"  {name}")
