#!/usr/bin/env bash
# The test command: installs what the tests need from Debian's packages when it is
# missing, then runs the whole suite. PostgreSQL tests run when
# PINGXUAN_TEST_DATABASE_URL is set, or when a PostgreSQL answers on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium + chromium-driver (browser tests), CJK fonts (readable
# screenshots, the 推荐表 PDF), media tools.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# The 推荐表 PDF is set in Noto Serif CJK SC (crates/pdf finds it at run time).
[ -e /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
# Real media made at test time for the upload checks (crates/media): videos and photos
# (ffmpeg, with libx264/libx265), EXIF orientation (exiftool), PDFs (img2pdf, qpdf, poppler).
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v img2pdf >/dev/null 2>&1 || need+=(img2pdf)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v exiftool >/dev/null 2>&1 || need+=(libimage-exiftool-perl)
# Certificates' QR codes read back from the rendered page (crates/pdf tests).
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${need[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# An S3-compatible server for the file-storage tests (crates/blobs): moto in server mode,
# from PyPI (Debian packages none), started by the tests on a loopback port.
if ! command -v moto_server >/dev/null 2>&1 && ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "installing moto[server] with pip (S3 tests)" >&2
  python3 -m pip install -q 'moto[server]'
fi

if ! command -v st >/dev/null 2>&1; then
  echo "installing schemathesis with pip (the API contract test)" >&2
  python3 -m pip install -q 'schemathesis==4.*'
fi

# Redis for the shared edge limits (crates/limits, two servers): the machine's, started
# here when it is down; installed from Debian's packages when missing.
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! redis_up; then
  if ! command -v redis-server >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing redis-server with apt-get" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  fi
  redis_up || redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes >/dev/null
  for _ in $(seq 1 50); do redis_up && break; sleep 0.1; done
fi

if [ -z "${PINGXUAN_TEST_DATABASE_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
   && pg_isready -q -h 127.0.0.1 -p 5432; then
  export PINGXUAN_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test"
fi
if [ -n "${PINGXUAN_TEST_DATABASE_URL:-}" ]; then
  echo "PostgreSQL tests against ${PINGXUAN_TEST_DATABASE_URL%%@*}@…" >&2
else
  echo "PostgreSQL tests skipped: set PINGXUAN_TEST_DATABASE_URL to run them" >&2
fi

exec cargo test --workspace --locked "$@"
