#!/usr/bin/python3
"""Requests, volunteers, a van and a pairing on Yiyuan Dispatch with grpcio.

An example for app backends to copy. It compiles the API from ../../proto when it
starts, so the stubs always match this checkout, then:

  1. submits three requests from different channels (APP, WECHAT, and STATION with a
     station id), each with its own idempotency key (request_id);
  2. sends the first one again with the same key: the server stores nothing new and
     answers with the first result and replayed=True -- what a client does after a
     timeout, when it cannot know whether its first attempt arrived;
  3. lists the district's recent requests, following page tokens;
  4. sends a volunteer registration with a bad phone number and shows the field
     violations of the INVALID_ARGUMENT answer, as a form would show them;
  5. registers two volunteers (one with the MEDICAL certificate), puts both on duty a
     few hundred metres from the requests, and reports a live-location update;
  6. creates a service van crewed by the two;
  7. finds the nearest volunteers and units around the requests, then only those
     holding the MEDICAL certificate;
  8. pairs one volunteer with a high-age resident for monthly visits;
  9. takes an offer as a volunteer app's backend would: submits an URGENT request that
     only the medic can do, follows the medic's offers (WatchOffers, a server stream
     resumable by cursor), accepts the one for that request (RespondToOffer) and reports
     it completed (ReportProgress);
 10. ends the shift: both volunteers go off duty and the van is stood down with an
     update_mask (UpdateUnit changes only the fields the mask names).

Every call carries "authorization: Bearer <token>" metadata and a deadline. Any other
failed call ends the program with exit status 1 and the server's message, including the
field violations of an INVALID_ARGUMENT. The token needs the OPERATOR or ADMIN role
(the admin token dispatchd writes to <data-dir>/admin.token will do).

Needs Debian's /usr/bin/python3 with python3-grpcio and python3-grpc-tools.
"""

import argparse
import importlib
import os
import sys
import tempfile
import time
import types
import uuid

try:
    import grpc
    import grpc_tools
    from google.protobuf import field_mask_pb2
    from grpc_tools import protoc
except ImportError as missing:
    sys.exit(f"yiyuan_example: {missing}; run it with Debian's /usr/bin/python3 "
             "(apt-get install python3-grpcio python3-grpc-tools)")

PROTO_ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto"))
PROTOS = [
    "yiyuan/v1/common.proto",
    "yiyuan/v1/intake.proto",
    "yiyuan/v1/unit.proto",
    "yiyuan/v1/volunteer.proto",
    "google/rpc/status.proto",  # to read field violations from errors
    "google/rpc/error_details.proto",
]
CALL_TIMEOUT_S = 5.0
OFFER_WAIT_S = 10.0  # how long step 9 waits for the offer to reach the medic

# The demo requests are at Aiguo Road, community wx-aiguo; the volunteers and the van
# start a few hundred metres away.
AIGUO_ROAD = (30.8731, 120.0925)
MEDIC_START = (30.8748, 120.0931)
HELPER_START = (30.8712, 120.0952)
HELPER_MOVED = (30.8720, 120.0940)
VAN_PARKED = (30.8760, 120.0890)


class ExampleError(Exception):
    """A failure worth one clear line on stderr."""


def load_api(out_dir):
    """Compiles PROTOS into out_dir and imports the generated modules."""
    bundled = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")  # google/protobuf/*
    args = ["grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{bundled}",
            f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *PROTOS]
    if protoc.main(args) != 0:
        raise ExampleError(f"cannot compile the protos under {PROTO_ROOT}")
    sys.path.insert(0, out_dir)
    return types.SimpleNamespace(
        common=importlib.import_module("yiyuan.v1.common_pb2"),
        intake=importlib.import_module("yiyuan.v1.intake_pb2"),
        intake_grpc=importlib.import_module("yiyuan.v1.intake_pb2_grpc"),
        volunteer=importlib.import_module("yiyuan.v1.volunteer_pb2"),
        volunteer_grpc=importlib.import_module("yiyuan.v1.volunteer_pb2_grpc"),
        unit=importlib.import_module("yiyuan.v1.unit_pb2"),
        unit_grpc=importlib.import_module("yiyuan.v1.unit_pb2_grpc"),
        status=importlib.import_module("google.rpc.status_pb2"),
        error_details=importlib.import_module("google.rpc.error_details_pb2"),
    )


def field_violations(error, api):
    """(field, description) pairs from the google.rpc.BadRequest details of an error."""
    found = []
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in api.status.Status.FromString(value).details:
            bad_request = api.error_details.BadRequest()
            if detail.Unpack(bad_request):
                found += [(v.field, v.description) for v in bad_request.field_violations]
    return found


def describe_rpc_error(error, api):
    """The error as text: 'CODE: message', then one line per field violation."""
    lines = [f"{error.code().name}: {error.details()}"]
    lines += [f"  {field}: {description}" for field, description in field_violations(error, api)]
    return "\n".join(lines)


class Service:
    """One gRPC service of dispatchd, with the bearer token and a deadline on every call."""

    def __init__(self, stub, token, server, api):
        self._stub = stub
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._server = server
        self._api = api

    def call_or_raise_rpc_error(self, method, request):
        """Calls `method`; a failure raises grpc.RpcError for the caller to inspect."""
        return getattr(self._stub, method)(
            request, metadata=self._metadata, timeout=CALL_TIMEOUT_S)

    def stream(self, method, request, timeout):
        """Starts a server-streaming call; iterate over the result, cancel() to stop."""
        return getattr(self._stub, method)(request, metadata=self._metadata, timeout=timeout)

    def call(self, method, request):
        """Calls `method`; a failure raises ExampleError with the server's message."""
        try:
            return self.call_or_raise_rpc_error(method, request)
        except grpc.RpcError as error:
            message = describe_rpc_error(error, self._api)
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                message += f"\n(is dispatchd running at {self._server}?)"
            raise ExampleError(f"{method} failed: {message}") from None


def lat_lng(api, point):
    return api.common.LatLng(lat=point[0], lng=point[1])


def new_phone():
    """A fresh mobile number, so that every run is a new person."""
    return "139" + str(uuid.uuid4().int)[:8]


def new_request(api, channel, category, name, station_id=""):
    """A SubmitRequestRequest with a fresh idempotency key.

    Real backends take the resident's details from their own form. Here each run uses a
    new phone number, because a second open request from the same phone in the same
    category is not stored: the server answers with the open one (duplicate_of).
    """
    common, intake = api.common, api.intake
    return intake.SubmitRequestRequest(
        request_id=str(uuid.uuid4()),  # keep it to retry safely
        request=intake.HelpRequest(
            channel=channel,
            category=category,
            urgency=common.ROUTINE,
            description="example request from yiyuan_example.py",
            intake=intake.Intake(station_id=station_id),
            resident=intake.Resident(
                name=name,
                phone=new_phone(),
                address="1 Aiguo Road",
                location=lat_lng(api, AIGUO_ROAD),
                community_id="wx-aiguo",
            ),
        ),
    )


def list_since(intake_service, api, since_ms):
    """Every request created at or after since_ms, newest first, across pages."""
    request = api.intake.ListRequestsRequest(created_after_ms=since_ms, page_size=50)
    found = []
    while True:
        page = intake_service.call("ListRequests", request)
        found.extend(page.requests)
        if not page.next_page_token:
            return found
        request.page_token = page.next_page_token


def new_volunteer(api, name, skills=(), certificates=(), on_call=False):
    """A RegisterVolunteerRequest for a new person.

    external_id is your own id for the person (e.g. the national volunteer platform id).
    Registration is idempotent on it: sending the same registration again after a
    timeout returns the stored volunteer with replayed=True. Each run here is a new
    person, so it makes a new one. Volunteers are available on weekdays 08:00-18:00
    (Asia/Shanghai), or whenever they are on duty when on_call.
    """
    v = api.volunteer
    weekdays_daytime = [] if on_call else [
        v.AvailabilitySlot(day_of_week=day, start_minute=8 * 60, end_minute=18 * 60)
        for day in range(1, 6)]
    return v.RegisterVolunteerRequest(volunteer=v.Volunteer(
        external_id=f"example-{uuid.uuid4().hex[:12]}",
        name=name,
        phone=new_phone(),
        home_community_id="wx-aiguo",
        skills=list(skills),
        certificates=list(certificates),  # verified certificates: OPERATOR or ADMIN only
        languages=["zh", "wuu-huzhou"],
        availability=weekdays_daytime,  # Asia/Shanghai time; empty = whenever on duty
        capacity=2,
    ))


def show_form_errors(volunteers, api):
    """Sends a registration with a bad phone and prints what INVALID_ARGUMENT says.

    The field violations name the fields ("volunteer.phone"), so an app can show each
    message next to the input it belongs to.
    """
    typo = new_volunteer(api, "Typo Example")
    typo.volunteer.phone = "1390572"  # seven digits; a mobile number has eleven
    try:
        volunteers.call_or_raise_rpc_error("RegisterVolunteer", typo)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise ExampleError(f"RegisterVolunteer failed: {describe_rpc_error(error, api)}") \
                from None
        print(f"rejected  {error.details()}")
        for field, description in field_violations(error, api):
            print(f"          field {field}: {description}")
        return
    raise ExampleError("a registration with a seven-digit phone was accepted")


def describe_candidate(api, candidate):
    """(id, kind, name) of a NearbyCandidate, which holds a volunteer or a unit."""
    if candidate.WhichOneof("candidate") == "volunteer":
        return candidate.volunteer.id, "volunteer", candidate.volunteer.name
    kind = api.unit.UnitKind.Name(candidate.unit.kind).removeprefix("UNIT_").lower()
    return candidate.unit.id, kind, candidate.unit.name


def print_nearby(api, title, response, ours):
    print(f"\n{title} (searched {response.searched_radius_m:.0f} m, * = ours):")
    if not response.candidates:
        print("   nobody fits")  # an empty result, not an error
    for rank, candidate in enumerate(response.candidates, 1):
        ident, kind, name = describe_candidate(api, candidate)
        mark = "*" if ident in ours else " "
        print(f" {mark} {rank:>2}. {ident:<24} {kind:<9} {candidate.distance_m:7.1f} m  "
              f"{candidate.capacity_left} free  {name}")


def run_intake(intake, api):
    """Steps 1-3. Returns the ids of the requests submitted."""
    common = api.common
    # Server clocks may differ a little from ours; look a minute further back.
    since_ms = int(time.time() * 1000) - 60_000
    submissions = [
        new_request(api, common.APP, common.ELDER_VISIT, "Zhang San"),
        new_request(api, common.WECHAT, common.SHOPPING, "Li Si"),
        new_request(api, common.STATION, common.REPAIR, "Wang Wu", station_id="st-07"),
    ]
    ours = []
    for submission in submissions:
        response = intake.call("SubmitRequest", submission)
        stored = response.request
        note = f" (duplicate of {response.duplicate_of})" if response.duplicate_of else ""
        print(f"submitted {stored.id:<12} {common.Channel.Name(stored.channel):<8} "
              f"{common.Category.Name(stored.category):<12} key={submission.request_id}{note}")
        ours.append(stored.id)

    replay = intake.call("SubmitRequest", submissions[0])
    if not replay.replayed or replay.request.id != ours[0]:
        raise ExampleError(f"expected a replay of {ours[0]}, got {replay}")
    print(f"replayed  {replay.request.id:<12} same key sent again: "
          f"replayed={replay.replayed}, nothing new stored")

    listed = list_since(intake, api, since_ms)
    print(f"\nrequests created in the last minute ({len(listed)}):")
    for r in listed:
        mark = "*" if r.id in ours else " "
        print(f" {mark} {r.id:<12} {common.RequestState.Name(r.state):<10} "
              f"{common.Channel.Name(r.channel):<8} {r.resident.name} {r.resident.phone}")
    missing = [i for i in ours if i not in {r.id for r in listed}]
    if missing:
        raise ExampleError(f"submitted but not listed: {', '.join(missing)}")
    return ours


def accept_offer(intake, volunteers, api, medic):
    """Step 9: a volunteer app's backend takes an offer for its volunteer.

    WatchOffers streams the volunteer's offers: first those pending now (snapshot=True),
    then each new offer and each change of one already sent (taken by someone else,
    expired, withdrawn). Keep the `cursor` of the last message: after a disconnect
    (UNAVAILABLE, e.g. dispatchd restarting) call again with resume_after_cursor=cursor
    and the stream continues exactly after it. RespondToOffer answers; the first
    acceptance wins and a late one gets FAILED_PRECONDITION. Returns the offer id.
    """
    common, vol = api.common, api.volunteer
    submission = new_request(api, common.APP, common.HEALTH_CHECK, "Sun Qi")
    submission.request.urgency = common.URGENT
    submission.request.required_skills.append("health_check")  # only the medic has it
    request_id = intake.call("SubmitRequest", submission).request.id
    print(f"\nsubmitted {request_id:<12} URGENT HEALTH_CHECK needing skill health_check")

    cursor = ""  # a real backend stores it with the volunteer's session
    offers = volunteers.stream("WatchOffers", vol.WatchOffersRequest(
        volunteer_id=medic.id, resume_after_cursor=cursor), timeout=OFFER_WAIT_S)
    offer = None
    try:
        for message in offers:
            cursor = message.cursor
            if message.request_id == request_id and message.state == vol.OFFER_PENDING:
                offer = message
                break
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise ExampleError(f"WatchOffers failed: {describe_rpc_error(error, api)}") from None
    finally:
        offers.cancel()
    if offer is None:
        raise ExampleError(f"no offer for {request_id} reached {medic.id} in {OFFER_WAIT_S} s")
    expires_in = offer.expire_time_ms / 1000 - time.time()
    print(f"offer     {offer.offer_id:<12} to {medic.id}: \"{offer.summary}\" "
          f"{offer.distance_m:.0f} m away, expires in {expires_in:.0f} s (cursor {cursor})")

    answer = volunteers.call("RespondToOffer", vol.RespondToOfferRequest(
        offer_id=offer.offer_id, response=vol.RESPONSE_ACCEPT, volunteer_id=medic.id,
        location=lat_lng(api, MEDIC_START)))
    resident = answer.assignment.resident  # contact details only now, for the assignee
    print(f"accepted  {offer.offer_id:<12} {vol.OfferState.Name(answer.offer.state)}; go to "
          f"{resident.name}, {resident.address}, {resident.phone}")
    done = volunteers.call("ReportProgress", vol.ReportProgressRequest(
        request_id=request_id, kind=vol.PROGRESS_COMPLETED, minutes_served=30))
    print(f"completed {request_id:<12} {vol.ProgressKind.Name(done.progress)}, "
          f"{done.minutes_served} min")
    return offer.offer_id


def run_volunteers(intake, volunteers, units, api):
    """Steps 4-10. Returns a one-line summary."""
    common, vol, unit = api.common, api.volunteer, api.unit
    print()
    show_form_errors(volunteers, api)

    medic = volunteers.call("RegisterVolunteer", new_volunteer(
        api, "Chen Yi", skills=["health_check"], certificates=[vol.CERT_MEDICAL],
        on_call=True)).volunteer
    helper = volunteers.call("RegisterVolunteer", new_volunteer(
        api, "Zhou Er", skills=["cooking", "shopping"])).volunteer
    for v, start in ((medic, MEDIC_START), (helper, HELPER_START)):
        on_duty = volunteers.call("SetDutyStatus", vol.SetDutyStatusRequest(
            volunteer_id=v.id, status=vol.DUTY_ON, location=lat_lng(api, start)))
        certificates = [vol.Certificate.Name(c) for c in on_duty.certificates]
        print(f"on duty   {on_duty.id:<12} {on_duty.name:<8} "
              f"{vol.DutyStatus.Name(on_duty.duty_status)} at {start[0]}, {start[1]}  "
              f"skills={list(on_duty.skills)} certificates={certificates}")

    # A volunteer app reports where the volunteer is every 15-30 s while on duty; the
    # answer says when to report next. Fixes older than the stored one are ignored.
    fix = volunteers.call("ReportLocation", vol.ReportLocationRequest(
        volunteer_id=helper.id, location=lat_lng(api, HELPER_MOVED),
        fix_time_ms=int(time.time() * 1000), accuracy_m=15))
    print(f"location  {helper.id:<12} moved to {HELPER_MOVED[0]}, {HELPER_MOVED[1]}: "
          f"stored={fix.stored}, next report in {fix.next_report_s} s")

    # A client-chosen unit_id makes CreateUnit safe to retry.
    van = units.call("CreateUnit", unit.CreateUnitRequest(
        unit_id=f"van-example-{uuid.uuid4().hex[:8]}",
        unit=unit.Unit(
            kind=unit.UNIT_VAN,
            name="Service van (example)",
            community_id="wx-aiguo",
            location=lat_lng(api, VAN_PARKED),
            member_volunteer_ids=[medic.id, helper.id],
            leader_volunteer_id=medic.id,
            capacity=2,
            skills=["driver"],
            equipment=["wheelchair", "blood_pressure_meter"],
            active=True,
        )))
    print(f"created   {van.id:<12} {unit.UnitKind.Name(van.kind)} \"{van.name}\" "
          f"crew={list(van.member_volunteer_ids)} leader={van.leader_volunteer_id}")

    ours = {medic.id, helper.id, van.id}
    nearby = volunteers.call("FindNearbyVolunteers", vol.FindNearbyVolunteersRequest(
        center=lat_lng(api, AIGUO_ROAD), limit=10, max_radius_m=2000, include_units=True))
    print_nearby(api, f"nearest to {AIGUO_ROAD[0]}, {AIGUO_ROAD[1]}", nearby, ours)
    medical = volunteers.call("FindNearbyVolunteers", vol.FindNearbyVolunteersRequest(
        center=lat_lng(api, AIGUO_ROAD), limit=10, max_radius_m=2000,
        required_certificates=[vol.CERT_MEDICAL]))
    print_nearby(api, "nearest with the MEDICAL certificate", medical, ours)
    if helper.id in {c.volunteer.id for c in medical.candidates}:
        raise ExampleError(f"{helper.id} has no MEDICAL certificate but was found")

    pairing = units.call("CreatePairing", unit.CreatePairingRequest(
        volunteer_id=helper.id,
        resident=api.intake.Resident(
            name="Wang Guifen",
            phone=new_phone(),
            address="3-201 Aiguo Xincun",
            community_id="wx-aiguo",
            compound_id="aiguo-xincun",
            high_age=True,
            lives_alone=True,
        ),
        recurrence=common.MONTHLY,
        notes="visit on the first Sunday; check the gas stove",
    ))
    print(f"\npaired    {pairing.id:<12} {pairing.volunteer_id} visits "
          f"{pairing.resident.name} ({pairing.resident.phone}) "
          f"{common.Recurrence.Name(pairing.recurrence)}")

    accepted = accept_offer(intake, volunteers, api, medic)

    # End of the shift. Going off duty withdraws pending offers and forgets the live
    # location; the van is stood down by changing only `active`, named in update_mask.
    for v in (medic, helper):
        volunteers.call("SetDutyStatus", vol.SetDutyStatusRequest(
            volunteer_id=v.id, status=vol.DUTY_OFF))
    stood_down = units.call("UpdateUnit", unit.UpdateUnitRequest(
        unit=unit.Unit(id=van.id, active=False),
        update_mask=field_mask_pb2.FieldMask(paths=["active"])))
    print(f"shift end {medic.id} and {helper.id} off duty; {stood_down.id} "
          f"active={stood_down.active}")
    return (f"volunteers {medic.id} (medical) and {helper.id}, van {van.id}, "
            f"{len(nearby.candidates)} nearby candidates, pairing {pairing.id}, "
            f"offer {accepted} accepted")


def run(server, token, api):
    with grpc.insecure_channel(server) as channel:
        def service(stub_class):
            return Service(stub_class(channel), token, server, api)

        intake = service(api.intake_grpc.IntakeServiceStub)
        volunteers = service(api.volunteer_grpc.VolunteerServiceStub)
        units = service(api.unit_grpc.UnitServiceStub)
        requests = run_intake(intake, api)
        summary = run_volunteers(intake, volunteers, units, api)
    print(f"\nsummary: {len(requests)} requests submitted ({', '.join(requests)}), "
          f"1 replay recognised; {summary}")


def read_token(args):
    if args.token:
        return args.token
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as f:
                token = f.read().strip()
        except OSError as error:
            raise ExampleError(f"cannot read --token-file: {error}") from None
        if not token:
            raise ExampleError(f"--token-file {args.token_file} is empty")
        return token
    if os.environ.get("YIYUAN_TOKEN"):
        return os.environ["YIYUAN_TOKEN"]
    raise ExampleError("no token: pass --token, --token-file or set YIYUAN_TOKEN")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--server", default=os.environ.get("YIYUAN_SERVER", "127.0.0.1:50051"),
                        help="dispatchd gRPC address (default: $YIYUAN_SERVER or %(default)s)")
    parser.add_argument("--token", help="bearer token, OPERATOR or ADMIN (default: $YIYUAN_TOKEN)")
    parser.add_argument("--token-file", help="file holding the token, e.g. var/admin.token")
    args = parser.parse_args()
    try:
        token = read_token(args)
        with tempfile.TemporaryDirectory(prefix="yiyuan-stubs-") as stubs_dir:
            run(args.server, token, load_api(stubs_dir))
    except ExampleError as error:
        print(f"yiyuan_example: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
