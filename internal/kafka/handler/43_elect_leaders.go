package handler

// ElectLeaders (key 43, KIP-183/KIP-460): preferred and unclean leader
// elections, as kafka-leader-election.sh asks; the controller runs them
// (controller/elect_leaders.go), a broker forwards. v0 has no election
// type (preferred).

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleElectLeaders(b *Broker, r *Request) *Reply {
	req := r.Msg.(*kmsg.ElectLeadersRequest)
	return Later(func() kmsg.Response {
		resp := kmsg.NewPtrElectLeadersResponse()
		resp.SetVersion(req.GetVersion())
		ctx, cancel := context.WithTimeout(context.Background(), timeoutOr(req.TimeoutMillis, time.Minute))
		defer cancel()
		results, err := b.Controller.ElectLeaders(ctx, req)
		if err != nil {
			// Every requested partition fails alike (v1+ has a
			// top-level code too).
			code := controllerErrorCode(err)
			resp.ErrorCode = code
			for _, rt := range req.Topics {
				st := kmsg.NewElectLeadersResponseTopic()
				st.Topic = rt.Topic
				for _, p := range rt.Partitions {
					sp := kmsg.NewElectLeadersResponseTopicPartition()
					sp.Partition, sp.ErrorCode, sp.ErrorMessage = p, code, errorMessage(err)
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp
		}
		byTopic := map[string]int{}
		for _, res := range results {
			i, ok := byTopic[res.Topic]
			if !ok {
				i = len(resp.Topics)
				byTopic[res.Topic] = i
				st := kmsg.NewElectLeadersResponseTopic()
				st.Topic = res.Topic
				resp.Topics = append(resp.Topics, st)
			}
			sp := kmsg.NewElectLeadersResponseTopicPartition()
			sp.Partition = res.Partition
			if res.Err != nil {
				sp.ErrorCode = res.Err.Code
				if res.Message != "" {
					sp.ErrorMessage = kmsg.StringPtr(res.Message)
				}
			}
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, sp)
		}
		return resp
	})
}
