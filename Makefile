# Every target is a plain command. `make run` and `make test` do all the set-up on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PORT    ?= 8000
PG_URL  ?= postgres://postgres@127.0.0.1:5432/test
# A scratch database for benchmarks (created when missing; its tables are migrated into it and left there).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/dangjian_bench
export DJANGO_SETTINGS_MODULE := dangjian.settings
# Development and test commands may use the built-in development key; production sets SECRET_KEY.
export DANGJIAN_ALLOW_DEV_KEY := 1

.PHONY: fonts run setup test test-pg test-browser test-cluster lint audit check-deploy demo bench bench-full clean

$(BIN)/.installed: pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更高版本")'
	@test -d $(VENV) || $(PY) -m venv $(VENV) || { echo "无法创建虚拟环境：请安装 python3-venv（Debian：apt-get install python3-venv）"; exit 1; }
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "需要 Node.js 和 npm 来安装前端资源（Debian：apt-get install nodejs npm）"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

locale/en/LC_MESSAGES/django.mo: locale/en/LC_MESSAGES/django.po
	@command -v msgfmt >/dev/null || { echo "需要 gettext 编译英文界面（Debian：apt-get install gettext）"; exit 1; }
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules

# PDFs (handbooks, posters) embed a Chinese TrueType font found on the system: Debian's fonts-wqy-zenhei, installed
# here when missing and we may (root with apt), else the exact command to run; PDF_FONT_PATH names another font.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || test -n "$$PDF_FONT_PATH" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "安装 PDF 所需的中文字体 fonts-wqy-zenhei"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; }; \
	  else echo "生成 PDF 需要中文字体：请运行 sudo apt-get install fonts-wqy-zenhei，或用 PDF_FONT_PATH 指定 TrueType 字体"; exit 1; fi; }

setup: $(BIN)/.installed node_modules/.installed locale/en/LC_MESSAGES/django.mo fonts

run: setup
	@mkdir -p $(or $(DATA_DIR),var)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py demo
	@echo "平台地址：http://127.0.0.1:$(PORT)/   （Ctrl+C 停止）"
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: setup
	@mkdir -p $(or $(DATA_DIR),var)
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -m "not browser and not cluster"

test-pg: setup
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser and not cluster"

test-browser: setup
	$(BIN)/pytest -m browser tests/browser

# Issue 7 point 4 and QUALITY.md R6 (docs/deploy.md): two gunicorn servers behind nginx and a task worker on one
# PostgreSQL database of PG_URL's server (the test creates and drops its own database), then 50 clients for
# LOAD_SECONDS (default 300) with zero errors. About 6–7 minutes; `LOAD_SECONDS=20 make test-cluster` by hand.
test-cluster: setup
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { echo "需要 nginx（Debian：apt-get install nginx）"; exit 1; }
	CLUSTER_PG_URL=$(PG_URL) $(BIN)/pytest -m cluster -s tests/cluster

lint: setup
	$(BIN)/ruff check .

# Security scans: bandit (no medium or high finding; B608 reviewed, see pyproject.toml) and pip-audit (says
# NOT AUDITED, without failing, where PyPI's vulnerability data cannot be reached).
audit: setup
	$(BIN)/bandit -c pyproject.toml -r dangjian -ll -q
	$(BIN)/python .ci/pip_audit.py

# `manage.py check --deploy` with production-like settings (docs/security.md lists what production sets).
check-deploy: setup
	env -u DANGJIAN_ALLOW_DEV_KEY DEBUG=0 ALLOWED_HOSTS=dangjian.example.cn \
	  SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  FIELD_ENCRYPTION_KEYS="$$($(BIN)/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
	  SECURE_HSTS_INCLUDE_SUBDOMAINS=1 SECURE_HSTS_PRELOAD=1 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# Benchmarks (QUALITY.md P1–P5, issue 7): every script records its figures — value, unit, same-run baseline, ratio,
# target, machine, date — in bench/results/latest.json (BENCH_RESULTS overrides the path) and prints one line per
# figure; docs/benchmarks.md keeps the history. Each runs on SQLite and on PostgreSQL (BENCH_PG_URL: a scratch
# database, created and migrated when missing, copied afresh for every script, see bench/database.py), the pages
# on PostgreSQL only (gunicorn and 20 clients); `make bench BENCH_PG_URL=` runs everything on SQLite alone.
# `make bench`: 1/100 of the enterprise — month close of 500 organizations and of 10 k members, import of 1 k
# members, a 30-member branch's handbooks, the generator at 10 k members, pages at quick scale — about 5 minutes
# on 2 shared cores. `make bench-full` adds the enterprise / province scale: month close of 50,000 organizations,
# member close of 60 k members (a province), import of 100 k members, the generator at 1 M members, pages at
# province scale — about an hour on 2 shared cores.
bench_run = $(BIN)/python $(1)$(if $(BENCH_PG_URL), && $(BIN)/python $(1) --database $(BENCH_PG_URL))
bench_pages = @if [ -f bench/bench_pages.py ]; then $(BIN)/python bench/bench_pages.py --scale $(1) \
	--database $(or $(BENCH_PG_URL),sqlite); \
	else echo "bench/bench_pages.py 不存在：未测页面延迟和冻结月份墙（P2）"; fi
bench_done = @echo "结果：$${BENCH_RESULTS:-bench/results/latest.json}（每项一行见上；$(1)）。历史记录：docs/benchmarks.md"

bench: setup
	$(call bench_run,bench/bench_generate.py --members 10000)
	$(call bench_run,bench/bench_import.py --members 1000)
	$(call bench_run,bench/bench_handbook.py --members 30 --runs 3)
	$(call bench_run,bench/bench_close.py --orgs 500 --months 3)
	$(call bench_run,bench/bench_member_close.py --orgs 500 --months 2)
	$(call bench_pages,quick)
	$(call bench_done,1/100 规模；企业规模请运行 make bench-full)

bench-full: bench
	$(call bench_run,bench/bench_generate.py --members 1000000 --no-extras)
	$(call bench_run,bench/bench_import.py --members 100000)
	$(call bench_run,bench/bench_close.py --orgs 50000 --months 1)
	$(call bench_run,bench/bench_member_close.py --orgs 3000 --months 2)
	$(call bench_pages,province)
	$(call bench_done,含企业/省公司规模；P5 目标以 generator.*.1M_members 为准)

demo: setup
	@mkdir -p $(or $(DATA_DIR),var)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0
	DEBUG=1 $(BIN)/python manage.py demo --reset

clean:
	rm -rf $(VENV) node_modules var staticfiles
