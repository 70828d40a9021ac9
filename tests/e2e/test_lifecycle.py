"""`make run`'s process: announces itself once ready, stops everything it started on SIGTERM."""

import socket

from tests.support import start_stack, stop_stack


def test_stack_announces_its_url_and_stops_cleanly_on_sigterm(tmp_path):
    # When the stack starts; Then it announces its URL once ready and writes its state file
    stack = start_stack(tmp_path)
    port = int(stack.url.rsplit(":", 1)[1])
    assert any(line.strip() == f"API ready at {stack.url}" for line in stack.output)
    assert stack.state_file.exists()

    # When it gets SIGTERM; Then it exits cleanly, removes its state and frees its port
    assert stop_stack(stack) == 0
    assert "local stack stopped\n" in stack.output
    assert not stack.state_file.exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
