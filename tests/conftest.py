from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["postgres_server"]  # a real PostgreSQL: postgres_server, database_url
