"""The night's capacity model (benchmarks/capacity.py): its arithmetic, on made-up points."""

from benchmarks import capacity
from benchmarks.capacity import GIB, MB, Host

POINTS = [(10 * MB, 2.0), (1000 * MB, 30.0), (4000 * MB, 150.0)]


def test_drill_time_is_linear_between_points_and_along_the_end_segments():
    assert capacity.drill_seconds(505 * MB, POINTS) == 16.0
    assert capacity.drill_seconds(7000 * MB, POINTS) == 270.0  # the last segment, extended
    assert capacity.drill_seconds(1 * MB, POINTS) == 2.0  # never below the smallest drill measured


def test_a_host_runs_one_drill_per_two_cores_and_counts_only_what_ends_in_the_window():
    assert Host(2, 24).slots == 1 and Host(16, 128).slots == 8
    finished, end = capacity.night([1000 * MB] * 10, Host(4, 64), POINTS, window=100)
    assert end == 150.0  # two at a time: five rounds of 30 s
    assert finished == 6  # the rounds ending at 30, 60 and 90 s


def test_memory_limits_the_drills_at_once():
    big = 5000 * MB  # 3 x 5 GB + 2 GiB each: two do not fit in 24 GiB
    assert capacity.memory_needed(big) > 12 * GIB
    _, together = capacity.night([big, big], Host(4, 64), POINTS)
    _, one_by_one = capacity.night([big, big], Host(4, 24), POINTS)
    assert one_by_one == 2 * together


def test_the_stated_pharmacy_sizes_stay_within_their_bounds_and_are_reproducible():
    sizes = capacity.pharmacy_sizes(5000)
    assert min(sizes) >= 200 * MB and max(sizes) <= 5000 * MB
    assert sorted(sizes)[2500] < 1000 * MB and sizes == capacity.pharmacy_sizes(5000)


def test_more_cores_drill_more_and_need_fewer_hosts():
    small, large = Host(2, 24), Host(16, 128)
    assert capacity.capacity(large, POINTS) > 6 * capacity.capacity(small, POINTS)
    assert capacity.hosts_needed(10_000, large, POINTS) < capacity.hosts_needed(10_000, small, POINTS)


def test_the_measured_points_are_read_from_the_benchmarks_page():
    points = capacity.measured_points((2 * MB, 1.0))
    assert points[0] == (2 * MB, 1.0) and len(points) >= 3
    assert all(seconds > 0 for _, seconds in points)
