"""Type stubs of the libring extension module (python/libring.c)."""

import os
from types import TracebackType
from typing import Iterable, Iterator, Literal, NamedTuple, Optional, Union


__version__: str
GROUP_NAME_MAX: int

# Any object with the buffer protocol (collections.abc.Buffer in 3.12).
_Buffer = Union[bytes, bytearray, memoryview]
_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_WhenFull = Optional[Literal["wait", "fail", "drop"]]
_From = Literal["oldest", "newest"]
_Where = Union[Literal["oldest", "newest"], int]


class RingStats(NamedTuple):
    capacity: int
    slot_size: int
    slot_count: int
    max_message: int
    tail: int
    min_cursor: int
    committed: int
    aborted: int
    dropped: int
    recovered: int
    groups: int
    processes: int
    producers: int
    readers: int
    when_full: str
    timestamps: bool
    created_ns: int
    version: int
    header_size: int
    file_size: int


class GroupStats(NamedTuple):
    name: str
    cursor: int
    released: int
    lag_slots: int
    lag_bytes: int
    lag_messages: int
    reader_alive: bool
    reader_pid: int


class Message:
    """A message in place in the ring; data valid until the next is taken."""

    @property
    def data(self) -> memoryview: ...
    @property
    def valid(self) -> bool: ...
    type: int
    pos: int
    pid: int
    slots: int
    timestamp: int

    def __len__(self) -> int: ...
    def __buffer__(self, flags: int) -> memoryview: ...


class Reservation:
    """Room for one message: `with ring.reserve(n) as buf:`."""

    @property
    def pos(self) -> Optional[int]: ...
    def __enter__(self) -> memoryview: ...
    def __exit__(self, exc_type: Optional[type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Reader:
    """The reader of one consumer group."""

    group: str

    @property
    def position(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def __iter__(self) -> Iterator[Message]: ...
    def __next__(self) -> Message: ...
    def take(self, timeout: Optional[float] = None) -> Optional[Message]: ...
    def poll(self, max: int = 256,
             timeout: Optional[float] = None) -> list[Message]: ...
    def messages(self,
                 timeout: Optional[float] = None) -> Iterator[Message]: ...
    def release(self) -> None: ...
    def skip(self) -> int: ...
    def stats(self) -> GroupStats: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Reader": ...
    def __exit__(self, exc_type: Optional[type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...


class Observer:
    """A read-only watcher of a ring; a context manager that closes it."""

    @property
    def lost(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def __iter__(self) -> Iterator[Message]: ...
    def __next__(self) -> Message: ...
    def take(self, timeout: Optional[float] = None) -> Optional[Message]: ...
    def seek(self, from_: _Where, /) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Observer": ...
    def __exit__(self, exc_type: Optional[type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...


class Ring:
    """An open ring; a context manager that closes it."""

    path: _Path

    @property
    def closed(self) -> bool: ...
    @property
    def mode(self) -> Literal["w", "r", "c"]: ...
    @property
    def max_message(self) -> int: ...
    @property
    def when_full(self) -> Literal["wait", "fail", "drop"]: ...
    def send(self, data: _Buffer, /, type: int = 0,
             when_full: _WhenFull = None,
             timeout: Optional[float] = None) -> bool: ...
    def send_batch(self, messages: Iterable[_Buffer], /, type: int = 0,
                   when_full: _WhenFull = None,
                   timeout: Optional[float] = None) -> int: ...
    def reserve(self, n: int, /, type: int = 0, when_full: _WhenFull = None,
                timeout: Optional[float] = None) -> Reservation: ...
    def reader(self, group: str, /, create: bool = False,
               from_: _From = "oldest", shared: bool = False,
               members: int = 0) -> Reader: ...
    def observe(self, from_: _Where = "oldest") -> Observer: ...
    def create_group(self, name: str, /, from_: _From = "oldest",
                     shared: bool = False, members: int = 0) -> None: ...
    def remove_group(self, name: str, /) -> None: ...
    def groups(self) -> list[str]: ...
    def stats(self) -> RingStats: ...
    def group_stats(self, name: str, /) -> GroupStats: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Ring": ...
    def __exit__(self, exc_type: Optional[type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool: ...


def create(path: _Path, capacity: Optional[int] = None,
           slot_size: Optional[int] = None, groups: Iterable[str] = (),
           when_full: _WhenFull = "wait", timestamps: bool = False,
           max_message: Optional[int] = None,
           max_groups: Optional[int] = None,
           max_processes: Optional[int] = None, mode: int = 0o600,
           single_producer: bool = False, prefault: bool = False) -> Ring: ...


def open(path: _Path, mode: Literal["w", "r", "c"] = "w",
         single_producer: bool = False, prefault: bool = False,
         foreign: bool = False) -> Ring: ...


def observe(path: _Path, from_: _Where = "oldest") -> Observer: ...


def unlink(path: _Path) -> None: ...


def strerror(err: int) -> str: ...
