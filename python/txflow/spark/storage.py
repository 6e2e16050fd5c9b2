"""The root's objects through Hadoop's FileSystem, as the Spark job sees them.

Local paths and file:// use Hadoop's raw local file system (no .crc
sidecars); s3a:// uses the S3A connector with Spark's Hadoop settings. Every
write goes to a scratch name first and is renamed into place, so a reader
(or a crash) never sees a part-written object: atomic on local file systems,
and on S3 the object appears only when its upload completes.
"""

import os
import uuid
from urllib.parse import urlparse

SCRATCH = "state/spark/tmp"


def root_uri(text):
    """The Hadoop URI of a txflow root or object given as on the command line.

    A plain path becomes file:///abs/path; s3:// (txflow's scheme) becomes
    s3a:// (Hadoop's S3 connector); other schemes are kept.
    """
    text = text.rstrip("/") or "/"
    scheme = urlparse(text).scheme
    if scheme == "s3":
        return "s3a" + text[2:]
    if scheme == "":
        return "file://" + os.path.abspath(text)
    return text


class Storage:
    """Objects under one root URI (keys are relative: 'landing_zone/...')."""

    def __init__(self, spark, uri):
        self.uri = uri
        jvm = spark._jvm
        self._jvm = jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        conf = spark._jsc.hadoopConfiguration()
        fs = self._path(uri).getFileSystem(conf)
        if uri.startswith("file:"):
            # Hadoop's local file systems (LocalFileSystem, and the Hive
            # proxy pyspark installs) checksum into .crc files beside ours;
            # the raw one below them does not.
            fs = fs.getRawFileSystem()
        self._fs = fs

    def path(self, key):
        return self.uri + "/" + key

    def read(self, key):
        """The object's bytes, or None when it does not exist."""
        p = self._path(self.path(key))
        try:
            stream = self._fs.open(p)
        except Exception as e:  # py4j wraps FileNotFoundException
            if "FileNotFoundException" in str(e) or not self._fs.exists(p):
                return None
            raise
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def exists(self, key):
        return self._fs.exists(self._path(self.path(key)))

    def list(self, prefix_dir):
        """Names (not keys) of the objects directly under prefix_dir."""
        p = self._path(self.path(prefix_dir))
        if not self._fs.exists(p):
            return []
        return [s.getPath().getName() for s in self._fs.listStatus(p)]

    def write(self, key, data):
        """Writes the object whole: a scratch object, then a rename."""
        tmp = self._path(self.path(SCRATCH + "/" + uuid.uuid4().hex))
        out = self._fs.create(tmp, True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        dst = self._path(self.path(key))
        self._fs.mkdirs(dst.getParent())
        try:
            renamed = self._fs.rename(tmp, dst)
        except Exception:  # S3A refuses to rename onto an existing object
            self._fs.delete(tmp, False)
            raise
        if not renamed:
            self._fs.delete(tmp, False)
            raise OSError(self.path(key) + ": could not rename the written "
                          "object into place")

    def clear_scratch(self):
        """Removes scratch objects a crashed run left (one job per root: no
        write of another run can be in progress)."""
        self._fs.delete(self._path(self.path(SCRATCH)), True)

    def write_once(self, key, data):
        """Writes the object unless it exists (its content is then the same:
        every object the job writes is a function of the landing zone)."""
        if not self.exists(key):
            self.write(key, data)


def read_object(spark, uri):
    """The bytes of one object named by its full URI; a missing object is an
    error naming it."""
    head, _, name = uri.rpartition("/")
    data = Storage(spark, head).read(name)
    if data is None:
        raise FileNotFoundError(f"{uri}: no such object")
    return data
