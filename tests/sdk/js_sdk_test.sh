#!/bin/sh
# ctest sdk_js_fake_ses: installs the AWS SDK for JavaScript v3 pinned in
# js/package-lock.json into WORK_DIR (the source tree stays clean), then runs
# js/fake_ses_test.mjs against MAILER_FAKE_SES. Needs node and npm, and the
# npm registry the first time. Usage: js_sdk_test.sh MAILER_FAKE_SES WORK_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../npm_ci.sh" "$here/js" "$2"
cp "$here/js/fake_ses_test.mjs" "$2/"
exec node "$2/fake_ses_test.mjs" "$1"
