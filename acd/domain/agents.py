"""Agents: logins at their phones, pauses, wrap-up, reachability and their state records."""

from __future__ import annotations

from typing import cast

from acd.domain.model import Agent, AgentState
from acd.domain.state import CoreState
from acd.domain.timers import Timer
from acd.vocabulary import events as ev
from acd.vocabulary import records as rec
from acd.vocabulary.alerts import Alert


class Agents(CoreState):
    def login_refusal(self, agent_id: str, device: str) -> str | None:
        """Why this agent may not log in at this phone now, or None (acd.domain.phones): the
        HTTP API and the phone's feature dialog ask first to tell the agent; the core asks
        again when the login arrives, so both obey it whatever they did."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return f"unknown agent id {agent_id}"
        why = self.phones.agent_refusal(agent.centre_id, device)
        if why is not None:
            return why
        holder = self._device_agent.get(device)
        if holder is not None and holder != agent_id:
            return f"{device} is taken: agent {holder} is logged in there"
        return None

    def monitor_refusal(self, device: str) -> str | None:
        """Why a supervisor may not listen, whisper or barge from this phone, or None."""
        why = self.phones.supervisor_refusal(device)
        if why is None and (holder := self._device_agent.get(device)) is not None:
            why = f"{device} is agent {holder}'s phone"
        return why

    def _on_agent_logged_in(self, e: ev.AgentLoggedIn, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None:
            self._emit(Alert("login_rejected", f"unknown agent id {e.agent_id}", now))
            return
        why = self.login_refusal(e.agent_id, e.device)
        if why is not None:
            # Refused, never taken over: whoever sits there stays logged in.
            self._emit(Alert("login_refused", f"agent {e.agent_id}: {why}", now))
            return
        if agent.state is AgentState.LOGGED_OUT:
            self._log_in(agent, e.device, now)
            self._make_available(agent, now, "login")
            return
        self._take_device(agent, e.device, now)
        if agent.state is AgentState.AVAILABLE:  # free seating: callable at the new phone
            self._make_available(agent, now, "device_changed")
        else:  # moved to another phone mid-call: the call carries on, later ones ring there
            state = cast(rec.AgentStateName, agent.state.value)
            self._record_agent(agent, state, now, reason="device_changed")

    def _on_agent_login_restored(self, e: ev.AgentLoginRestored, now: float) -> None:
        """Log an agent back in after a restart without a new "login": the state recorded
        is `available` with reason `restored`, or `paused` with the pause reason (so that
        the latest record keeps telling the next restart why), and the agent's session in
        the store, never closed, carries on."""
        agent = self.agents.get(e.agent_id)
        if agent is None:
            self._emit(Alert("login_not_restored",
                             f"agent {e.agent_id} was logged in at {e.device} before the "
                             "restart but is no longer in the call flows", now))
            return
        if agent.state is not AgentState.LOGGED_OUT:
            return  # logged in since (or restored twice): what happened since wins
        why = self.login_refusal(e.agent_id, e.device)
        if why is not None:  # e.g. someone else logged in at that phone since
            self._emit(Alert("login_not_restored", f"agent {e.agent_id}: {why}", now))
            return
        self._log_in(agent, e.device, now)
        if e.pause_reason is None:
            self._make_available(agent, now, "restored")
        else:
            self._pause(agent, now, e.pause_reason)

    def _log_in(self, agent: Agent, device: str, now: float) -> None:
        self._take_device(agent, device, now)
        for key in agent.queues:
            self.queues[key].logged_in += 1
        agent.idle_since = now
        agent.calls_answered = 0

    def _take_device(self, agent: Agent, device: str, now: float) -> None:
        """One agent per phone: the caller checked with `login_refusal` that it is free."""
        if agent.device is not None and self._device_agent.get(agent.device) == agent.id:
            del self._device_agent[agent.device]
        agent.device = device
        self._device_agent[device] = agent.id

    def _on_agent_logged_out(self, e: ev.AgentLoggedOut, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            return
        if agent.state in (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            agent.pending = "logout"  # never cut a conversation; log out when it is done
            agent.logout_reason = e.reason  # a supervisor's force-logout stays theirs
            if agent.state is AgentState.AFTER_CALL_WORK and not self.may_end_wrap_up(agent):
                # Only a classification ends this wrap-up: leaving ends it unclassified.
                self._wrap_up_over(agent, now)
            return
        if agent.state is AgentState.RINGING:
            self._withdraw_ring(agent, now)
        self._logout(agent, now, e.reason)

    def _on_agent_paused(self, e: ev.AgentPaused, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None or agent.state is AgentState.LOGGED_OUT:
            return
        if agent.state in (AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            agent.pending = f"pause:{e.reason}"
            return
        if agent.state is AgentState.RINGING:
            self._withdraw_ring(agent, now)
        self._pause(agent, now, e.reason)

    def _on_agent_unpaused(self, e: ev.AgentUnpaused, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is None:
            return
        if agent.pending and agent.pending.startswith("pause:"):
            agent.pending = None
        if agent.state is AgentState.PAUSED:
            agent.pause_reason = None
            self._make_available(agent, now, "unpause")

    def _on_wrap_up_done(self, e: ev.WrapUpDone, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        if agent is not None and self.may_end_wrap_up(agent):
            self._wrap_up_over(agent, now)

    def _on_wrap_up_timer(self, t: Timer) -> None:
        agent = self.agents.get(t.subject)
        if agent and agent.token == t.token and self.may_end_wrap_up(agent):
            self._wrap_up_over(agent, t.at)

    def wrap_up_refusal(self, agent_id: str) -> str | None:
        """Why this agent, in wrap-up, may not end it now (the phone's *15 and the API ask
        first, to say so); None too when they are not in wrap-up at all."""
        agent = self.agents.get(agent_id)
        if agent is not None and agent.state is AgentState.AFTER_CALL_WORK \
                and not self.may_end_wrap_up(agent):
            return "the call is not classified yet"
        return None

    def may_end_wrap_up(self, agent: Agent) -> bool:
        """In wrap-up, and (when the call flows require it) the call is classified."""
        return agent.state is AgentState.AFTER_CALL_WORK and (
            not self.flows.wrapup.required or agent.classified_call == agent.call_id)

    def _on_call_classified(self, e: ev.CallClassified, now: float) -> None:
        agent = self.agents.get(e.agent_id)
        # Only the agent's own call, while they are on it or wrapping it up: the API checks
        # as much, but the event may come after the call moved on.
        if agent is None or agent.call_id != e.call_id or agent.state not in (
                AgentState.ON_CALL, AgentState.AFTER_CALL_WORK):
            return
        agent.classified_call = e.call_id
        self._emit(rec.Classification(e.call_id, agent.id, e.code, now, e.emergency_type,
                                      e.place, e.people_affected, e.notes))
        if e.ready and self.may_end_wrap_up(agent):
            self._wrap_up_over(agent, now)

    def _on_device_state_changed(self, e: ev.DeviceStateChanged, now: float) -> None:
        if e.reachable == (e.device not in self.unreachable):
            return
        if e.reachable:
            self.unreachable.discard(e.device)
        else:
            self.unreachable.add(e.device)
        agent_id = self._device_agent.get(e.device)
        agent = self.agents[agent_id] if agent_id else None
        if agent is not None and agent.state is AgentState.AVAILABLE:
            self._make_available(agent, now, "device_reachable" if e.reachable
                                 else "device_unreachable")

    def _wrap_up_over(self, agent: Agent, now: float) -> None:
        self._emit(rec.WrapUpEnded(agent.call_id or "", agent.id, now - agent.state_since, now))
        agent.idle_since = now
        self._release(agent, now)

    def _release(self, agent: Agent, now: float) -> None:
        """The agent's call or ring is over: apply a pending logout or pause, else serve."""
        agent.call_id = agent.offer_id = None
        pending, agent.pending = agent.pending, None
        if pending == "logout":
            self._logout(agent, now, agent.logout_reason)
        elif pending is not None:
            self._pause(agent, now, pending.removeprefix("pause:"))
        else:
            self._make_available(agent, now, None)

    def _make_available(self, agent: Agent, now: float, reason: str | None) -> None:
        self._set_state(agent, AgentState.AVAILABLE, now, reason)
        if agent.device in self.unreachable:
            return  # logged in but not callable until the phone is back
        for key in agent.queues:
            self.queues[key].add_agent(agent)
        self._serve_agent(agent, now)

    def _pause(self, agent: Agent, now: float, reason: str) -> None:
        agent.pause_reason = reason
        self._set_state(agent, AgentState.PAUSED, now, reason)

    def _logout(self, agent: Agent, now: float, reason: str) -> None:
        if agent.device is not None and self._device_agent.get(agent.device) == agent.id:
            del self._device_agent[agent.device]
        self._set_state(agent, AgentState.LOGGED_OUT, now, reason)
        agent.device = None
        agent.pause_reason = None
        for key in agent.queues:
            q = self.queues[key]
            q.logged_in -= 1
            if q.logged_in == 0:
                self._escalate_unstaffed(key, now)
