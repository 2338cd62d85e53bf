#!/usr/bin/env python3
"""Calls through the real server's SIP registrar and proxy, played by sipp on both sides with
the scenarios in tests/sipp: registration, a call and its hang-up over UDP, TCP and across the
two, CANCEL, busy and declined callees, an unknown user, Timer C, a re-INVITE in the dialog,
and a call forked to two contacts of one user.

A callee is a sipp that REGISTERs from its own socket and then plays its part of the call as
sipp's out-of-call scenario (see tests/sipp/callee_register.xml); a caller sends its INVITE to
the server. Every test starts its own server, so no binding outlives the test that made it.
"""

import unittest

from harness import require_tool, run_tests
from sipp import TCP, UDP, Flow, start_server


def final_status(sipp):
    """The last final response to the INVITE that `sipp` received."""
    finals = [m.status for m in sipp.received()
              if m.status and m.status >= 200 and "INVITE" in " ".join(m.headers("CSeq"))]
    return finals[-1] if finals else None


def via_count(message):
    return sum(len(value.split(",")) for value in message.headers("Via"))


class SipCalls(unittest.TestCase):
    def flow(self, *settings):
        server = start_server(*settings)
        self.addCleanup(self.stop_server, server)
        return Flow(self, server)

    def stop_server(self, server):
        try:
            code, _ = server.stop()
        finally:
            server.__exit__(None, None, None)
        self.assertEqual(code, 0, "the server did not stop cleanly on SIGTERM")

    # Registrar

    def register(self, transport):
        flow = self.flow()
        alice = flow.sipp("alice", "register.xml", transport=transport, user="alice")
        flow.run(alice)

    def test_register_refresh_too_brief_unregister_over_udp(self):
        self.register(UDP)

    def test_register_refresh_too_brief_unregister_over_tcp(self):
        self.register(TCP)

    # A call through the proxy on each transport

    def call(self, caller_transport, callee_transport):
        flow = self.flow()
        callee = flow.callee("callee", "uas_answer.xml", transport=callee_transport, pause_ms=200)
        caller = flow.sipp("caller", "uac_call.xml", transport=caller_transport, pause_ms=300)
        flow.run(caller, [callee])

        invite = callee.received("INVITE")[0]
        self.assertEqual(invite.transport, "TCP" if callee_transport == TCP else "UDP")
        self.assertEqual(invite.headers("Max-Forwards"), ["69"], invite.text)
        self.assertEqual(via_count(invite), 2, invite.text)
        # One entry, or two when the proxy changes transport (RFC 5658 double record-routing).
        record_route = ",".join(invite.headers("Record-Route")).split(",")
        self.assertIn(len(record_route), (1, 2), invite.text)
        for entry in record_route:
            self.assertIn(";lr", entry, invite.text)
        # ACK and BYE follow the recorded route: the caller names the proxy in Route, and the
        # proxy, having consumed its own entry, adds its Via on the way to the callee.
        for method in ("ACK", "BYE"):
            self.assertTrue(caller.sent(method)[0].headers("Route"), method)
            forwarded = callee.received(method)[0]
            self.assertEqual(via_count(forwarded), 2, forwarded.text)
            self.assertEqual(forwarded.headers("Route"), [], forwarded.text)

    def test_call_over_udp(self):
        self.call(UDP, UDP)

    def test_call_over_tcp(self):
        self.call(TCP, TCP)

    def test_call_from_udp_caller_to_callee_registered_over_tcp(self):
        self.call(UDP, TCP)

    def test_call_from_tcp_caller_to_callee_registered_over_udp(self):
        self.call(TCP, UDP)

    # Calls that end without an answer

    def test_caller_cancels_while_ringing(self):
        flow = self.flow()
        callee = flow.callee("callee", "uas_ring_cancelled.xml")
        caller = flow.sipp("caller", "uac_cancel.xml", pause_ms=300)
        flow.run(caller, [callee])
        self.assertEqual(final_status(caller), 487)
        # The proxy cancels its own branch: one Via, its own (RFC 3261 16.10).
        self.assertEqual(via_count(callee.received("CANCEL")[0]), 1)

    def refused(self, callee_scenario, status):
        flow = self.flow()
        callee = flow.callee("callee", callee_scenario)
        caller = flow.sipp("caller", "uac_refused.xml")
        flow.run(caller, [callee])
        self.assertEqual(final_status(caller), status)

    def test_busy_callee_486_reaches_the_caller(self):
        self.refused("uas_busy.xml", 486)

    def test_declining_callee_603_reaches_the_caller(self):
        self.refused("uas_decline.xml", 603)

    def test_unknown_user_gets_404(self):
        flow = self.flow()
        caller = flow.sipp("caller", "uac_refused.xml", user="nobody")
        flow.run(caller)
        self.assertEqual(final_status(caller), 404)

    def test_max_forwards_zero_gets_483(self):
        flow = self.flow()
        caller = flow.sipp("caller", "uac_refused.xml", keys={"max_forwards": 0})
        flow.run(caller)
        self.assertEqual(final_status(caller), 483)

    def test_unanswered_call_ends_with_408_when_timer_c_fires(self):
        flow = self.flow("sip.timer_c=3")
        callee = flow.callee("callee", "uas_ring_cancelled.xml")
        caller = flow.sipp("caller", "uac_refused.xml")
        flow.run(caller, [callee])
        self.assertEqual(final_status(caller), 408)
        invite_sent = caller.sent("INVITE")[0].when
        final_received = [m for m in caller.received() if m.status and m.status >= 200][0].when
        cancel_received = callee.received("CANCEL")[0].when
        # Timer C restarts with the 180, which comes at once; loopback clocks are shared.
        self.assertTrue(2.5 <= final_received - invite_sent <= 6.5,
                        f"408 came {final_received - invite_sent:.2f}s after the INVITE")
        self.assertTrue(2.5 <= cancel_received - invite_sent <= 6.5,
                        f"CANCEL came {cancel_received - invite_sent:.2f}s after the INVITE")

    # Within the dialog, and forking

    def test_reinvite_in_the_dialog_goes_through_the_proxy(self):
        flow = self.flow()
        callee = flow.callee("callee", "uas_reinvite.xml")
        caller = flow.sipp("caller", "uac_reinvite.xml", pause_ms=200)
        flow.run(caller, [callee])
        invites = callee.received("INVITE")
        self.assertEqual(len(invites), 2)
        reinvite = invites[1]
        self.assertIn("tag=", reinvite.headers("To")[0])
        self.assertEqual(reinvite.headers("CSeq"), ["2 INVITE"])
        self.assertEqual(via_count(reinvite), 2, reinvite.text)

    def test_call_forked_to_two_contacts_is_answered_by_one_and_cancelled_at_the_other(self):
        flow = self.flow()
        answering = flow.callee("answering", "uas_answer.xml", pause_ms=1000)
        ringing = flow.callee("ringing", "uas_ring_cancelled.xml")
        caller = flow.sipp("caller", "uac_call.xml", pause_ms=300)
        flow.run(caller, [answering, ringing])
        call_id = caller.sent("INVITE")[0].headers("Call-ID")
        self.assertEqual(answering.received("INVITE")[0].headers("Call-ID"), call_id)
        self.assertEqual(ringing.received("INVITE")[0].headers("Call-ID"), call_id)
        answered = [m for m in answering.sent() if m.status == 200][0].when
        self.assertGreaterEqual(ringing.received("CANCEL")[0].when, answered)


if __name__ == "__main__":
    require_tool("sipp")
    run_tests()
