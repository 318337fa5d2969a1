# Sourced by the test scripts: PY is a Python with NumPy (the PATH's python3, else Debian's), or empty.
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c "import numpy" 2>/dev/null; then
    PY=$p
    break
  fi
done
