"""A session with the agent on a device: connect (over SSH, or locally for this computer), ask, and
turn what can go wrong on the way into a DeployError a person can act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from sdv_studio.core.deploy.agent_link.client import AgentCallError, AgentClient, AgentUnavailable, connect_agent
from sdv_studio.core.deploy.agent_link.local_target import LocalConnection, is_local
from sdv_studio.core.deploy.agent_link.uploads import TransferStalled
from sdv_studio.core.deploy.orchestrator import DeployError
from sdv_studio.core.ssh.connection import SshConnection, connect
from sdv_studio.core.ssh.errors import SshError
from sdv_studio.core.ssh.target import SshTarget
from sdv_studio.core.ssh.trust import HostKeyTrust


@asynccontextmanager
async def agent_session(target: SshTarget, trust: HostKeyTrust, timeout: float, command: str = "info",
                        args: dict[str, Any] | None = None) -> AsyncIterator[tuple[AgentClient, dict[str, Any]]]:
    """A connection with an up-to-date agent on the other end (this computer needs no SSH), and
    the agent's answer to a first ``command`` (info unless said otherwise)."""
    async with AsyncExitStack() as stack:
        conn: SshConnection | LocalConnection
        if is_local(target):
            conn = LocalConnection()
        else:
            conn = await stack.enter_async_context(connect(target, trust, timeout=timeout))
        agent, answer = await connect_agent(conn, timeout, command, args)
        stack.push_async_callback(agent.close)  # before the connection closes: the session ends cleanly
        yield agent, answer


async def agent_answer(target: SshTarget, trust: HostKeyTrust, timeout: float, command: str,
                       args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Connect, run one agent command, disconnect: one round trip when the agent is up to date."""
    async with agent_session(target, trust, timeout, command, args) as (_agent, answer):
        return answer


def agent_failure(exc: AgentCallError) -> DeployError:
    """The agent's refusal, with the app's log tail and what it did about the old version."""
    answer = exc.answer
    rolled_back = bool(answer.get("rolledBack"))
    message = str(exc)
    if answer.get("rolledBackTo"):
        message += f"; rolled back to {answer['rolledBackTo']}, which is running"
    elif answer.get("mode") == "hot-swap" and answer.get("previous"):
        message += f"; {answer['previous']} kept running"
    return DeployError(message, logs=[str(line) for line in answer.get("logTail") or []], rolled_back=rolled_back)


@asynccontextmanager
async def deploy_errors(target: SshTarget) -> AsyncIterator[None]:
    try:
        yield
    except AgentCallError as exc:
        raise agent_failure(exc) from exc
    except (SshError, AgentUnavailable, TransferStalled) as exc:
        raise DeployError(str(exc)) from exc
    except TimeoutError as exc:
        raise DeployError(f"{target.label}: the device stopped answering") from exc
