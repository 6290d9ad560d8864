"""Edits TOLLGATE-INF/model.json in a packed fashion-mnist plugin for the batching benches (batching.sh,
cpu-per-request.sh): instance_group count INSTANCES, and for fm-on dynamic_batching with preferred_batch_size
[8,16,32] and max_queue_delay_microseconds DELAY_US.
    python3 fm-model-json.py JAR NAME INSTANCES DELAY_US"""
import json, sys, zipfile, shutil
jar, name, instances, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src = zipfile.ZipFile(jar)
entries = [(i, src.read(i.filename)) for i in src.infolist()]
src.close()
with zipfile.ZipFile(jar + ".tmp", "w", zipfile.ZIP_DEFLATED) as out:
    for info, data in entries:
        if info.filename == "TOLLGATE-INF/model.json":
            d = json.loads(data)
            d["instance_group"] = [{"count": instances, "kind": "KIND_CPU"}]
            if name == "fm-on":
                d["dynamic_batching"] = {"preferred_batch_size": [8, 16, 32], "max_queue_delay_microseconds": delay}
            data = json.dumps(d, indent=2).encode()
        out.writestr(info, data)
shutil.move(jar + ".tmp", jar)
