"""osint: automated OSINT weekly country security reports.

fetch -> parse -> extract -> store -> classify -> cluster -> analyse -> render ->
archive, distribute; the review desk's edits (editorial, review) sit between analysis
and rendering.

Every module of the package belongs to one of four layers, and data flows
configuration -> jobs -> stages -> models. ``tests/test_layers.py`` reads the table
below and checks every import of every module (at any depth, type-checking ones too),
so a module not listed here, or an import across the rules, fails the tests:

    toolkits: errors models edits settings stats text terms urls periods locks retry
              http llm_client workers templating pagemeta review_schema
    stages:   parse extract store classify cluster history analyse editorial review
              render archive distribute
    jobs:     jobs
    fronts:   cli __main__ desk schedule demo

- **toolkits** are what several layers share: data shapes (models, edits), settings,
  errors, text and URL helpers, the outbound I/O policy (retry, the HTTP and LLM
  clients), worker processes, the template environment. A toolkit imports toolkits only.
- **stages** do one step each: data in, data out. A stage is a module or a package
  (``analyse``, whose modules import each other); it imports toolkits only, never another
  stage, so each can be read, tested and replaced alone.
- **jobs** (``osint.jobs``) are the only code that chains stages: a job hands one stage's
  output to the next inside a run context (one store, the locks, the run's stats).
- **fronts** are what a person or the clock starts (the CLI, the review desk, the
  scheduler, the demo): they parse input, call jobs and show the outcome. A front imports
  toolkits, jobs and other fronts (the CLI registers the desk's commands and starts the
  scheduler; the demo drives the CLI), never a stage: the desk's work (``jobs.desk``) and
  its users (``jobs.users``) are jobs. Nothing below imports a front.
"""

__version__ = "0.1.0"
