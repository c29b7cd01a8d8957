"""Working time (工作时): the working calendar, the admin-loaded year tables it reads, and the SLA clocks counted on
it. ``working_calendar`` and ``clock`` are pure; ``calendar_store`` reads and caches the loaded years."""
