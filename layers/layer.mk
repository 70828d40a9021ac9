# The layers' build, included by layers/core/Makefile and layers/adapters/Makefile (BuildMethod: makefile).
#
# `sam build` runs `make -f <that Makefile> build-<LogicalId>` in a scratch copy of the layer's ContentUri,
# with ARTIFACTS_DIR set; what lands in $(ARTIFACTS_DIR)/python is Lambda's /opt/python. The same target
# runs by hand (the benchmarks do): `make -C <ContentUri> -f <Makefile> build-<LogicalId> ARTIFACTS_DIR=...`.
#
# Each build installs its lock (layers/<layer>/requirements.lock, written by layers/lock.py from
# requirements/constraints.txt) with --require-hashes --no-deps: the tested versions and nothing else;
# trims what no function imports; then ships bytecode. Lambda's file system is read-only, so a layer
# without .pyc compiles every module again at each cold start; unchecked-hash .pyc files are valid
# whatever the files' mtimes become in the zip.

LAYERS_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# template.yaml's Architectures (arm64) is aarch64; ARCH=x86_64 builds for an x86_64 machine (the benchmarks).
ARCH ?= aarch64
# Must be CPython 3.11, the runtime's: the .pyc files are that interpreter's bytecode.
PYTHON ?= python3
SITE = $(ARTIFACTS_DIR)/python
PIP_TARGET_FLAGS = --require-hashes --no-deps --only-binary=:all: --no-compile --disable-pip-version-check --root-user-action=ignore \
	--platform manylinux2014_$(ARCH) --python-version 3.11 --implementation cp --abi cp311

# $(call install-lock,LOCK): a fresh $(SITE) with exactly the lock's wheels.
define install-lock
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "$(PYTHON) is not CPython 3.11")'
	rm -rf "$(SITE)"
	$(PYTHON) -m pip install --quiet $(PIP_TARGET_FLAGS) --target "$(SITE)" -r $(1)
	rm -rf "$(SITE)/bin"
endef

# $(call copy-package,NAME): the project's own package NAME from the build directory, without caches.
define copy-package
	cp -R $(1) "$(SITE)/$(1)"
endef

# Bytecode for everything, caches of the source tree dropped first; type stubs are for type checkers only.
define compile
	find "$(SITE)" -name __pycache__ -type d -prune -exec rm -rf {} +
	find "$(SITE)" -name '*.pyi' -type f -delete
	$(PYTHON) -m compileall -q -j0 --invalidation-mode unchecked-hash "$(SITE)"
endef
