"""The job layer: the only code that chains stages.

A job is one thing a user or the scheduler asks for — ``collect``, ``report``, ``run``
(the weekly job), ``send``, ``schedule`` — run inside a :class:`~osint.jobs.context.RunContext`
built once from :class:`~osint.settings.Settings` (with the CLI's overrides already
applied). The context loads the feeds file and the country profile once, opens the
store once, holds the locks and the run's record and stats. The CLI parses arguments,
calls a job and prints its outcome; the scheduler calls the same weekly job.

    jobs.context   RunContext: settings, config, store, locks, run records, stats
    jobs.collect   collect: sources -> stored, classified items
    jobs.gather    one source's chain: fetch, parse, fetch pages, extract (worker processes), store
    jobs.report    report: store -> Report -> files (+ the archive); the editorial seam
    jobs.send      send: a written report -> email, recorded per recipient
    jobs.weekly    run: collect, report on the week, archive, email (``osint run``, the scheduler)
    jobs.files     atomic writes; write failures become ReportError
    jobs.db        db status: the store's named migrations, applied or pending
    jobs.tuning    classify: JSON lines -> the profile's decisions (taxonomy tuning)
    jobs.desk      the review desk's work: a period's reviewed draft, edits, approval (``osint serve``)
    jobs.desk_evidence  an item's classification evidence as the desk shows it
    jobs.users     the desk's users and session key, in the store

Modules are imported by what they need only, so ``osint collect`` loads no analysis,
rendering or LLM code (this package's ``__init__`` imports nothing).
"""
