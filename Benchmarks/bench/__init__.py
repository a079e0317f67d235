"""The parts of Benchmarks/compare.py (the entry point, which imports them from here):

    common     paths, log/say, BenchError
    processes  children ended by PID, runs with timeouts, JSON helpers, probes, /proc readings
    namespace  the private network namespace (compare.py re-executes itself under unshare)
    mounts     memofs and btfs mounts, their cleanup and logs, btfs's installation
    peers      libtorrent seeder and downloader (child modes _seed, _download), torrents, opentracker
    probes     one operation on a mount, or a bare peer-wire client (child mode _probe)
    figures    collected figures and what they are measured with
    runner     the benchmark: setup, then each system's rounds
    report     the table, ratios and bars, and the JSON
"""
