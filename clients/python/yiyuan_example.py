#!/usr/bin/python3
"""Submit, replay and list help requests on Yiyuan Dispatch with grpcio.

An example for app backends to copy. It compiles the API from ../../proto when it
starts, so the stubs always match this checkout, then:

  1. submits three requests from different channels (APP, WECHAT, and STATION with a
     station id), each with its own idempotency key (request_id);
  2. sends the first one again with the same key: the server stores nothing new and
     answers with the first result and replayed=True -- what a client does after a
     timeout, when it cannot know whether its first attempt arrived;
  3. lists the district's recent requests, following page tokens, and prints a summary.

Every call carries "authorization: Bearer <token>" metadata and a deadline. Any failed
call ends the program with exit status 1 and the server's message, including the
field violations of an INVALID_ARGUMENT.

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
    from grpc_tools import protoc
except ImportError as missing:
    sys.exit(f"yiyuan_example: {missing}; run it with Debian's /usr/bin/python3 "
             "(apt-get install python3-grpcio python3-grpc-tools)")

PROTO_ROOT = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto"))
PROTOS = [
    "yiyuan/v1/common.proto",
    "yiyuan/v1/intake.proto",
    "google/rpc/status.proto",  # to read field violations from errors
    "google/rpc/error_details.proto",
]
CALL_TIMEOUT_S = 5.0


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
        status=importlib.import_module("google.rpc.status_pb2"),
        error_details=importlib.import_module("google.rpc.error_details_pb2"),
    )


def describe_rpc_error(error, api):
    """The error as text: 'CODE: message', then one line per field violation."""
    lines = [f"{error.code().name}: {error.details()}"]
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in api.status.Status.FromString(value).details:
            bad_request = api.error_details.BadRequest()
            if detail.Unpack(bad_request):
                lines += [f"  {v.field}: {v.description}" for v in bad_request.field_violations]
    return "\n".join(lines)


class Intake:
    """IntakeService with the bearer token and a deadline on every call."""

    def __init__(self, channel, token, server, api):
        self._stub = api.intake_grpc.IntakeServiceStub(channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._server = server
        self._api = api

    def call(self, method, request):
        try:
            return getattr(self._stub, method)(
                request, metadata=self._metadata, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as error:
            message = describe_rpc_error(error, self._api)
            if error.code() == grpc.StatusCode.UNAVAILABLE:
                message += f"\n(is dispatchd running at {self._server}?)"
            raise ExampleError(f"{method} failed: {message}") from None


def new_request(api, channel, category, name, station_id=""):
    """A SubmitRequestRequest with a fresh idempotency key.

    Real backends take the resident's details from their own form. Here each run uses a
    new phone number, because a second open request from the same phone in the same
    category is not stored: the server answers with the open one (duplicate_of).
    """
    common, intake = api.common, api.intake
    phone = "139" + str(uuid.uuid4().int)[:8]
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
                phone=phone,
                address="1 Aiguo Road",
                location=common.LatLng(lat=30.8731, lng=120.0925),
                community_id="wx-aiguo",
            ),
        ),
    )


def list_since(intake_client, api, since_ms):
    """Every request created at or after since_ms, newest first, across pages."""
    request = api.intake.ListRequestsRequest(created_after_ms=since_ms, page_size=50)
    found = []
    while True:
        page = intake_client.call("ListRequests", request)
        found.extend(page.requests)
        if not page.next_page_token:
            return found
        request.page_token = page.next_page_token


def run(server, token, api):
    common = api.common
    # Server clocks may differ a little from ours; look a minute further back.
    since_ms = int(time.time() * 1000) - 60_000
    with grpc.insecure_channel(server) as channel:
        intake = Intake(channel, token, server, api)
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
    print(f"\nsummary: {len(ours)} submitted ({', '.join(ours)}), 1 replay recognised, "
          f"{len(listed)} listed (* = ours)")


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
    parser.add_argument("--token", help="bearer token (default: $YIYUAN_TOKEN)")
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
