from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["media_backends"]  # the local and S3 media backends (media_url fixture)
