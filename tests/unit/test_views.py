from __future__ import annotations

import pytest

from dialer.views import Metrics


def test_returned_records_read_as_attributes_items_and_json():
    metrics = Metrics(total_participants=3, contacts_called=2, contacts_connected=1,
                      calls_placed=4, in_progress=0, channels_in_use=0,
                      outcomes={"answered": 1}, by_status={"completed": 3})
    assert metrics["calls_placed"] == metrics.calls_placed == 4
    assert metrics.model_dump(mode="json")["outcomes"] == {"answered": 1}
    with pytest.raises(KeyError):
        metrics["nope"]
