"""The AI interviewer: its plan, question bank, text-mode twin and LiveKit voice agent."""
