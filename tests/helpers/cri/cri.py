#!/usr/bin/python3
"""A CRI client playing the kubelet's part for the tests (Debian ships no
crictl): each command is one CRI call on containerd's socket, arguments and
answers as JSON.

    cri.py SOCK version
    cri.py SOCK runp POD.json HANDLER            -> pod sandbox id
    cri.py SOCK create POD_ID CTR.json POD.json  -> container id
    cri.py SOCK start|rm|status ID
    cri.py SOCK stop ID TIMEOUT
    cri.py SOCK exec ID TIMEOUT CMD...           -> stdout; exits with the command's code
    cri.py SOCK stopp|rmp POD_ID
    cri.py SOCK podbench HANDLER N IMAGE LOGDIR SHIM
                                                 -> JSON: N pods (sandbox + 2 containers)
                                                    started one by one, each timed from
                                                    RunPodSandbox to the second
                                                    StartContainer; with all N running,
                                                    RSS and PSS of each process named
                                                    SHIM serving this containerd
    cri.py SOCK podgrowth HANDLER COUNTS IMAGE LOGDIR SHIM
                                                 -> JSON: one pod, containers added one by
                                                    one; at each count of the comma-separated
                                                    COUNTS, RSS and PSS of the SHIM processes
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def load_stubs():
    """Compile cri.proto into $CRI_STUBS (once per test run), else a temporary directory."""
    out = os.environ.get("CRI_STUBS") or tempfile.mkdtemp(prefix="cri-")
    if not os.path.exists(os.path.join(out, "cri_pb2_grpc.py")):
        os.makedirs(out, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=out)
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", HERE, "--python_out", tmp,
                        "--grpc_python_out", tmp, os.path.join(HERE, "cri.proto")], check=True)
        for f in ("cri_pb2.py", "cri_pb2_grpc.py"):
            os.replace(os.path.join(tmp, f), os.path.join(out, f))
        os.rmdir(tmp)
    sys.path.insert(0, out)
    import cri_pb2
    import cri_pb2_grpc
    return cri_pb2, cri_pb2_grpc


def memory_of(shim, sock):
    """[(rss_kb, pss_kb)] of the processes running binary `shim` for containerd at sock."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
            if not argv[0].endswith(shim.encode()) or sock.encode() not in argv:
                continue
            with open("/proc/%s/smaps_rollup" % pid) as f:
                vals = dict((l.split()[0].rstrip(":"), int(l.split()[1])) for l in f if l.split()[0] in ("Rss:", "Pss:"))
            out.append((vals["Rss"], vals["Pss"]))
        except OSError:
            continue
    return out


def podbench(rt, pb, sock, handler, n, image, logdir, shim):
    import time
    pods, times = [], []
    for i in range(int(n)):
        name = "bench-%s-%d" % (handler, i)
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=name, namespace="bench"), log_directory=logdir,
            linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=pb.NamespaceOption(network=pb.NODE))))
        t0 = time.monotonic()
        pod = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), timeout=60).pod_sandbox_id
        for c in ("a", "b"):
            cc = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=c), image=pb.ImageSpec(image=image),
                                    command=["sleep", "100000"], log_path="%s-%s.log" % (name, c))
            cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=cc, sandbox_config=cfg),
                                     timeout=60).container_id
            rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=60)
        times.append((time.monotonic() - t0) * 1000)
        pods.append(pod)
    mem = memory_of(shim, sock)
    for pod in pods:
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=60)
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=60)
    return {"handler": handler, "start_ms": times, "shims": mem}


def podgrowth(rt, pb, sock, handler, counts, image, logdir, shim):
    counts = sorted(int(c) for c in counts.split(","))
    name = "grow-%s" % handler
    cfg = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=name, namespace="bench"), log_directory=logdir,
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE))))
    pod = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), timeout=60).pod_sandbox_id
    points = []
    try:
        for i in range(1, counts[-1] + 1):
            cc = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="c%d" % i), image=pb.ImageSpec(image=image),
                                    command=["sleep", "100000"], log_path="%s-c%d.log" % (name, i))
            cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod, config=cc, sandbox_config=cfg),
                                     timeout=60).container_id
            rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=60)
            if i in counts:
                mem = memory_of(shim, sock)
                points.append({"containers": i, "shims": len(mem), "rss_kb": sum(m[0] for m in mem),
                               "pss_kb": sum(m[1] for m in mem)})
    finally:
        rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=120)
        rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=120)
    return {"handler": handler, "points": points}


def main():
    import grpc
    from google.protobuf import json_format
    pb, pbg = load_stubs()
    sock, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    rt = pbg.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))

    def cfg(path, msg):
        with open(path) as f:
            return json_format.ParseDict(json.load(f), msg)

    try:
        if cmd == "version":
            r = rt.Version(pb.VersionRequest(version="v1"))
            print(json_format.MessageToJson(r))
        elif cmd == "runp":
            r = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg(args[0], pb.PodSandboxConfig()),
                                                         runtime_handler=args[1]), timeout=60)
            print(r.pod_sandbox_id)
        elif cmd == "create":
            r = rt.CreateContainer(pb.CreateContainerRequest(
                pod_sandbox_id=args[0], config=cfg(args[1], pb.ContainerConfig()),
                sandbox_config=cfg(args[2], pb.PodSandboxConfig())), timeout=60)
            print(r.container_id)
        elif cmd == "start":
            rt.StartContainer(pb.StartContainerRequest(container_id=args[0]), timeout=60)
        elif cmd == "stop":
            rt.StopContainer(pb.StopContainerRequest(container_id=args[0], timeout=int(args[1])), timeout=60)
        elif cmd == "rm":
            rt.RemoveContainer(pb.RemoveContainerRequest(container_id=args[0]), timeout=60)
        elif cmd == "status":
            r = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0]), timeout=30)
            print(json_format.MessageToJson(r.status, preserving_proto_field_name=True,
                                            use_integers_for_enums=False))
        elif cmd == "exec":
            r = rt.ExecSync(pb.ExecSyncRequest(container_id=args[0], timeout=int(args[1]), cmd=args[2:]),
                            timeout=int(args[1]) + 30)
            sys.stdout.buffer.write(r.stdout)
            sys.stderr.buffer.write(r.stderr)
            return r.exit_code
        elif cmd == "podbench":
            print(json.dumps(podbench(rt, pb, sock, *args)))
        elif cmd == "podgrowth":
            print(json.dumps(podgrowth(rt, pb, sock, *args)))
        elif cmd == "stopp":
            rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=args[0]), timeout=60)
        elif cmd == "rmp":
            rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=args[0]), timeout=60)
        else:
            print("unknown command " + cmd, file=sys.stderr)
            return 2
    except grpc.RpcError as e:
        print("cri %s: %s: %s" % (cmd, e.code().name, e.details()), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
