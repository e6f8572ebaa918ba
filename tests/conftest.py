from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# Real PostgreSQL (postgres_server, database_url) and the local and S3 media backends (media_url).
pytest_plugins = ["postgres_server", "media_backends"]
