"""The statements' full-text index in tantivy: schema, analysis, writes and queries.

Why a second index beside SQLite's FTS5: FTS5 computes bm25 for every row a
word matches and checks each match against the filters before it can sort,
so a word in 5 % of a million statements costs ~100 ms. tantivy prunes to
the top page (block-max WAND) and filters on columnar fields: the same
searches take well under a millisecond (docs/performance.md). It is strictly
derived: built from the store and kept current from its revisions by
``bot.search.derived``; the store and FTS5 stay the truth and the fallback.

Everything here blocks (tantivy does the work in Rust); ``bot.search.derived``
calls it off the event loop. Queries are built from analysed terms with
tantivy's query objects, never from query-language text, so nothing a user
types is syntax here either.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tantivy

from bot.store.base import Page, SearchDocument, StatementQuery

FORMAT = 1
"""Bumped whenever the schema or the analysis changes: an index of another format is rebuilt."""

STATE_FILE = "verbatim-index.json"
ANALYZER = "verbatim_text"
WEIGHTS = {"body_text": 10.0, "translation": 6.0, "topics": 4.0, "context": 1.0}
"""The same per-column weights as the store's bm25, so both rank alike."""

_WRITER_HEAP = 64_000_000


def analyzer() -> tantivy.TextAnalyzer:
    """Close to FTS5's ``porter unicode61 remove_diacritics 2``: words split on
    anything but letters and digits, lower-cased, accents folded, English stems."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(255))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("speaker", tokenizer_name="raw")
    builder.add_text_field("language", tokenizer_name="raw")
    builder.add_integer_field("date_start", fast=True, indexed=True)
    builder.add_integer_field("date_end", fast=True, indexed=True)
    for name in WEIGHTS:
        builder.add_text_field(name, tokenizer_name=ANALYZER)
    return builder.build()


def _day(value: str | dt.date) -> int:
    """An ISO day as the integer 20161208: ordered like the dates, cheap to range over."""
    text = value.isoformat() if isinstance(value, dt.date) else value
    return int(text.replace("-", ""))


@dataclass(frozen=True)
class IndexState:
    """Which store, and up to which of its revisions, the committed index holds."""

    store_key: int = 0
    rev: int = 0
    format: int = FORMAT


class StatementIndex:
    """One tantivy index of statements in a folder (or in memory when ``path`` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.schema = _schema()
        self._analyzer = analyzer()
        self.index = self._open()
        self.state = self._read_state()

    # -- opening and state -----------------------------------------------------

    def _open(self) -> tantivy.Index:
        if self.path is None:
            index = tantivy.Index(self.schema)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
            except (OSError, ValueError):
                # Another format, or a damaged folder: it is derived, so start again.
                self._clear_folder()
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        index.register_tokenizer(ANALYZER, self._analyzer)
        return index

    def _clear_folder(self) -> None:
        assert self.path is not None
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True, exist_ok=True)

    def _read_state(self) -> IndexState:
        if self.path is None:
            return IndexState()
        try:
            data = json.loads((self.path / STATE_FILE).read_text(encoding="utf-8"))
            state = IndexState(int(data["store_key"]), int(data["rev"]), int(data["format"]))
        except (OSError, ValueError, KeyError, TypeError):
            return IndexState()
        # Another format (an analyser changed): taken as empty, so the keeper rebuilds it;
        # a schema change is caught earlier, when tantivy refuses to open the folder.
        return state if state.format == FORMAT else IndexState()

    def reread_state(self) -> IndexState:
        """What another process's commits say now; reloads the searcher if they moved."""
        state = self._read_state()
        if state != self.state:
            self.index.reload()
            self.state = state
        return self.state

    def forget(self) -> None:
        """The next catch-up rebuilds; the state on disk changes only with that commit."""
        self.state = IndexState()

    def _save_state(self, state: IndexState) -> None:
        """Written after the commit it describes: a crash in between leaves a state
        that is behind the index, and applying revisions again is harmless."""
        self.state = state
        if self.path is None:
            return
        tmp = self.path / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
        os.replace(tmp, self.path / STATE_FILE)

    # -- writing ---------------------------------------------------------------

    def writer(self, *, threads: int = 1) -> tantivy.IndexWriter:
        """Raises ValueError when another writer (here or in another process) holds the lock."""
        return self.index.writer(_WRITER_HEAP, threads)

    def _document(self, doc: SearchDocument) -> tantivy.Document:
        return tantivy.Document(
            id=doc.id, speaker=doc.speaker_id, language=(doc.language or "").lower(),
            date_start=_day(doc.date_start), date_end=_day(doc.date_end),
            body_text=doc.body_text, translation=doc.translation, topics=doc.topics,
            context=doc.context,
        )

    def add(self, writer: tantivy.IndexWriter, docs: Iterable[SearchDocument]) -> None:
        for doc in docs:
            writer.add_document(self._document(doc))

    def replace(
        self, writer: tantivy.IndexWriter, ids: Iterable[str], docs: Iterable[SearchDocument]
    ) -> None:
        """Drops every listed id, then adds the documents still visible: idempotent."""
        for entry_id in ids:
            writer.delete_documents_by_term("id", entry_id)
        self.add(writer, docs)

    def commit(self, writer: tantivy.IndexWriter, state: IndexState) -> None:
        writer.commit()
        self.index.reload()
        self._save_state(state)

    # -- searching ---------------------------------------------------------------

    @staticmethod
    def can_answer(query: StatementQuery) -> bool:
        """Ranked searches with words only: listings by date come from the store's
        date indexes, in the store's exact order, and are fast there."""
        return bool(query.words or query.phrases) and not query.chronological

    def search(self, query: StatementQuery) -> Page:
        """The ranked page and the total, as ``Store.search_statements`` gives them."""
        clauses = [self._text(words) for words in self._parts(query)]
        occur = tantivy.Occur.Should if query.match_any else tantivy.Occur.Must
        text = tantivy.Query.boolean_query([(occur, clause) for clause in clauses])
        musts: list[Any] = [text]
        if query.speaker_ids:
            musts.append(tantivy.Query.term_set_query(self.schema, "speaker",
                                                      list(query.speaker_ids)))
        if query.language:
            musts.append(tantivy.Query.term_query(self.schema, "language",
                                                  query.language.lower()))
        # A date known only to the year overlaps any range touching that year.
        if query.since is not None:
            musts.append(tantivy.Query.range_query(
                self.schema, "date_end", tantivy.FieldType.Integer, _day(query.since), None))
        if query.until is not None:
            musts.append(tantivy.Query.range_query(
                self.schema, "date_start", tantivy.FieldType.Integer, None, _day(query.until)))
        final = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in musts])
        searcher = self.index.searcher()
        result = searcher.search(final, max(0, query.limit), count=True,
                                 offset=max(0, query.offset))
        ids = [searcher.doc(address)["id"][0] for _score, address in result.hits]
        return Page(ids, int(result.count or 0))

    @staticmethod
    def _parts(query: StatementQuery) -> list[Sequence[str]]:
        """Each word, and each phrase, is one part that must (or, loosened, may) match."""
        return [(word,) for word in query.words if word] + [p for p in query.phrases if p]

    def _text(self, words: Sequence[str]) -> tantivy.Query:
        """One word or phrase in any of the four fields, each with its weight.

        A word that analyses to several tokens (``U.S.``) is a phrase, as a
        quoted string is in FTS5; one that analyses to none matches nothing.
        """
        tokens = [token for word in words for token in self._analyzer.analyze(word)]
        if not tokens:
            return tantivy.Query.empty_query()
        fields = []
        for name, weight in WEIGHTS.items():
            if len(tokens) == 1:
                base = tantivy.Query.term_query(self.schema, name, tokens[0])
            else:
                base = tantivy.Query.phrase_query(self.schema, name, tokens)
            fields.append((tantivy.Occur.Should, tantivy.Query.boost_query(base, weight)))
        return tantivy.Query.boolean_query(fields)

    def count(self) -> int:
        return int(self.index.searcher().num_docs)
