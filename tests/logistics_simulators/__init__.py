"""Partner simulators used by the suite's tests, benchmarks and demo.

Real servers on loopback (HTTP, SFTP), never mocks of client libraries.
"""
