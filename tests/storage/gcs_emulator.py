"""Runs gcp-storage-emulator with the generation header that real GCS sends.

GCS answers a media download with ``x-goog-generation``; the emulator does
not, so TensorStore reads generation 0 and every conditional write after a
read (an OCDBT manifest updated twice in one Orbax save) fails with
"Malformed StorageGeneration". Same arguments as ``gcp-storage-emulator``.
"""

import sys

from gcp_storage_emulator.handlers import objects

_download = objects.download


def _download_with_generation(request, response, storage, *args, **kwargs):
    _download(request, response, storage, *args, **kwargs)
    try:
        obj = storage.get_file_obj(
            request.params["bucket_name"], request.params["object_id"]
        )
    except Exception:  # not found: the original handler answered 404
        return
    response["x-goog-generation"] = obj["generation"]
    response["x-goog-metageneration"] = obj["metageneration"]


# Before the server module builds its routing table from these names.
objects.download = _download_with_generation

from gcp_storage_emulator.__main__ import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
