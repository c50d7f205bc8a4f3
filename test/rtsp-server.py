#!/usr/bin/python3
# A real RTSP server for stream-source tests: GStreamer's (gir1.2-gst-rtsp-server-1.0), serving a
# live H.264 test pattern at rtsp://127.0.0.1:<port>/main and /sub. Prints "ready" once listening.
# Usage: rtsp-server.py <port>
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port = sys.argv[1]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
mounts = server.get_mount_points()
for name, size in (("main", "640x360"), ("sub", "320x180")):
    w, h = size.split("x")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate=25/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    # Not shared: every client gets its own pipeline, as most cameras serve each session on its own. (A
    # shared media that a client joins while the last one's teardown is unpreparing it answers 503
    # for as long as that takes: gst-rtsp-server's known race, seen in CI, not a camera's behaviour.)
    factory.set_shared(False)
    mounts.add_factory(f"/{name}", factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on port " + port)
print("ready", flush=True)
loop = GLib.MainLoop()
# Bounded: a test run that dies without stopping it leaves nothing running for long.
GLib.timeout_add_seconds(600, loop.quit)
loop.run()
